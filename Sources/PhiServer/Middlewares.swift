import Foundation
import Hummingbird
import NIOCore

/// Turns every error into OpenAI's shape: the router's 404 (405 when the path exists with another method),
/// Hummingbird's 413 and other HTTP errors, and anything unexpected as a 500.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Known paths and their methods, for 405 answers.
    let routes: [String: [HTTPRequest.Method]]
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            if e.status.code >= 500 { metrics.failed() }
            throw e
        } catch let e as HTTPError {
            switch e.status {
            case .notFound:
                if let methods = routes[request.uri.path] {
                    var a = APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)")
                    a.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
                    throw a
                }
                throw APIError(.notFound, "no route \(request.method) \(request.uri.path)", code: "unknown_url")
            case .contentTooLarge:
                throw APIError(.contentTooLarge, "the request body is over this server's limit", code: "body_too_large")
            default:
                throw APIError(e.status, e.body ?? e.status.reasonPhrase)
            }
        } catch {
            let e = APIError.from(error)
            if e.status.code >= 500 && e.status != .serviceUnavailable { metrics.failed() }
            throw e
        }
    }
}

/// `Authorization: Bearer KEY` on every route but /health, compared in constant time.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String
    let publicPaths: Set<String> = ["/health"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if publicPaths.contains(request.uri.path) || request.method == .options { return try await next(request, context) }
        let given = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard given.hasPrefix(prefix), Self.constantTimeEqual(Array(given.utf8.dropFirst(prefix.utf8.count)), Array(key.utf8)) else {
            var e = APIError(.unauthorized, given.isEmpty ? "missing API key: send Authorization: Bearer KEY" : "invalid API key",
                             code: "invalid_api_key")
            e.headers[.wwwAuthenticate] = "Bearer"
            throw e
        }
        return try await next(request, context)
    }

    /// Time depends on the lengths only, never on where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
