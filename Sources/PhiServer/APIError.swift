import Foundation
import Hummingbird
import NIOCore

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with its HTTP status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? APIError.defaultType(status)
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    static func defaultType(_ s: HTTPResponse.Status) -> String {
        switch s.code {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 429: return "rate_limit_error"
        case 500...: return s.code == 503 ? "service_unavailable" : "server_error"
        default: return "invalid_request_error"
        }
    }

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param, code: code)
    }

    /// The JSON body (also sent as an SSE event when a stream fails after it started).
    var body: [String: Any] {
        ["error": ["message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull()] as [String: Any]]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: JSON.data(body))))
    }
}

/// JSON encoding of Foundation values for responses (sorted keys, no escaped slashes, always valid UTF-8).
enum JSON {
    static func data(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":{"message":"response encoding failed","type":"server_error","param":null,"code":null}}"#.utf8)
    }

    static func string(_ object: Any) -> String { String(decoding: data(object), as: UTF8.self) }

    static func response(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data(object))))
    }
}
