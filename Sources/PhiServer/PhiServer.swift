import Foundation
import Hummingbird
import Logging
import NIOCore
import PhiKit
import ServiceLifecycle

/// The OpenAI-compatible HTTP API over one `InferenceEngine`. It only translates HTTP and SSE to engine requests
/// and back: prompt building, scheduling and generation live in PhiGeneration.
public enum PhiServer {
    static let routes: [String: [HTTPRequest.Method]] = [
        "/health": [.get], "/metrics": [.get], "/v1/models": [.get],
        "/v1/chat/completions": [.post], "/v1/completions": [.post],
        "/v1/audio/transcriptions": [.post], "/v1/audio/translations": [.post],
    ]

    /// The router with every route and middleware (tested in process with HummingbirdTesting).
    public static func buildRouter(state: ServerState) -> Router<BasicRequestContext> {
        let c = state.configuration
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: OpenAIErrorMiddleware(routes: routes, metrics: state.metrics))
        if let origin = c.corsOrigin {
            router.add(middleware: CORSMiddleware(allowOrigin: .custom(origin),
                                                  allowHeaders: [.accept, .authorization, .contentType, .origin],
                                                  allowMethods: [.get, .post, .options]))
        }
        if let key = c.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }

        router.get("/health") { _, _ -> Response in
            switch state.phase {
            case .ready: return JSON.response(["status": "ok"])
            case .loading: return JSON.response(["status": "loading"], status: .serviceUnavailable)
            case .failed(let m): return JSON.response(["status": "error", "error": m], status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: state.metrics.render(engine: state.engine?.stats, weightsPending: state.weightsPendingRepack))))
        }
        router.get("/v1/models") { _, _ -> Response in
            JSON.response(["object": "list", "data": [modelObject(state)]])
        }
        router.get("/v1/models/{id}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard id == c.modelID else { throw APIError(.notFound, "the model '\(id)' does not exist", param: "model", code: "model_not_found") }
            return JSON.response(modelObject(state))
        }
        router.post("/v1/chat/completions") { request, _ -> Response in
            var request = request
            let body = try await collect(&request, limit: c.maxBodyBytes)
            return try await ChatCompletions(state: state).handle(request, body: body)
        }
        router.post("/v1/completions") { request, _ -> Response in
            var request = request
            let body = try await collect(&request, limit: c.maxBodyBytes)
            return try await Completions(state: state).handle(request, body: body)
        }
        for (path, translate) in [("/v1/audio/transcriptions", false), ("/v1/audio/translations", true)] {
            router.post(RouterPath(path)) { request, _ -> Response in
                var request = request
                let limit = c.maxUploadBytes + (1 << 16)   // the form's other fields and framing
                if let len = request.headers[.contentLength].flatMap(Int.init), len > limit {
                    throw APIError(.contentTooLarge, "the upload has \(len) bytes; this server takes at most \(c.maxUploadBytes)",
                                   code: "body_too_large")
                }
                let body = try await collectBuffer(&request, limit: limit)
                return try await Transcriptions(state: state, translate: translate).handle(request, body: body)
            }
        }
        return router
    }

    static func modelObject(_ state: ServerState) -> [String: Any] {
        ["id": state.configuration.modelID, "object": "model", "created": state.created, "owned_by": "phikit"]
    }

    /// The body, refused early by Content-Length and again while reading (413).
    static func collect(_ request: inout Request, limit: Int) async throws -> Data {
        if let len = request.headers[.contentLength].flatMap(Int.init), len > limit {
            throw APIError(.contentTooLarge, "the request body has \(len) bytes; this server takes at most \(limit)", code: "body_too_large")
        }
        return Data(buffer: try await collectBuffer(&request, limit: limit))
    }

    /// The body as bytes: over the limit is a 413, a body that ends before its Content-Length a 400.
    static func collectBuffer(_ request: inout Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch let e as HTTPError {
            throw e
        } catch {
            throw APIError.invalid("the request body ended early (\(error))", code: "incomplete_body")
        }
    }

    public static func buildApplication(state: ServerState, logger: Logger? = nil) -> some ApplicationProtocol {
        let c = state.configuration
        var log = logger ?? Logger(label: "phi4.serve")
        if logger == nil { log.logLevel = .info }
        return Application(router: buildRouter(state: state),
                           configuration: .init(address: .hostname(c.host, port: c.port), serverName: "phi4"),
                           services: [EngineService(state: state), IdleMemoryTrimmer(state: state)], logger: log)
    }

    /// Serves until SIGINT or SIGTERM: the HTTP server starts at once (/health says 503 while loading), the model
    /// loads in the background, and on a signal the server stops accepting, in-flight requests end, and it returns.
    public static func run(configuration: ServerConfiguration, load: @escaping @Sendable () throws -> LoadedModel,
                           onReady: @escaping @Sendable (LoadedModel) -> Void = { _ in }) async throws {
        let state = ServerState(configuration: configuration)
        Thread.detachNewThread {
            do {
                let model = try load()
                state.setModel(model)
                onReady(model)
            } catch {
                state.setFailed("\(error)")
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        let app = buildApplication(state: state)
        try await app.runService()
    }
}

/// Stops the engine on graceful shutdown, so running streams end cleanly instead of holding the server open.
struct EngineService: Service {
    let state: ServerState

    func run() async throws {
        try? await gracefulShutdown()
        state.shutdown()
    }
}
