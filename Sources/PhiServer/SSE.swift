import Foundation
import Hummingbird
import NIOCore

/// Server-sent events framing: `data: <json>\n\n` per event, `: comment\n\n` for keep-alives, `data: [DONE]`.
enum SSE {
    static func event(_ object: Any) -> ByteBuffer {
        var b = ByteBuffer(string: "data: ")
        b.writeBytes(JSON.data(object))
        b.writeString("\n\n")
        return b
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")

    static let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
}

extension Response {
    /// Says that the connection ends with this response. Watching a request's connection for a client that
    /// goes away (to cancel its generation) makes Hummingbird close it afterwards; the header keeps clients
    /// from reusing it.
    func closingConnection() -> Response {
        var r = self
        r.headers[.connection] = "close"
        return r
    }
}
