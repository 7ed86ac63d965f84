import Foundation
import Hummingbird
import NIOCore
import PhiKit

/// POST /v1/chat/completions.
struct ChatCompletions {
    let state: ServerState

    func handle(_ request: Request, body: Data) async throws -> Response {
        let (engine, bridge) = try state.ready()
        let chat = try ChatCompletionRequest(JSONFields.parse(body))
        var options = try chat.parameters.options(configuration: state.configuration, model: bridge.model)
        options.forcedOutput = state.nextForcedOutput(bridge.model)
        if chat.toolChoice == .none || chat.tools.isEmpty, let call = bridge.model.tokenizer.specialTokenID("<|tool_call|>") {
            options.logitBias[call] = -100   // no tools offered: the model cannot start a call
        }
        let media = try await MediaResolver(configuration: state.configuration).resolve(chat)
        let engineRequest = try bridge.chatRequest(chat, media: media, options: options)
        let feed = EventFeed(try engine.submit(engineRequest), keepAliveSeconds: chat.stream ? state.configuration.keepAliveSeconds : 0)
        let started = try await Self.awaitStart(feed)
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let output = ChatOutput(id: String(id), model: chat.model ?? state.configuration.modelID, created: Int(Date().timeIntervalSince1970),
                                loaded: bridge.model, includeUsage: chat.includeUsage, logprobs: chat.parameters.logprobs,
                                promptTokens: started.prompt, toolsOffered: !chat.tools.isEmpty && chat.toolChoice != .none)
        if chat.stream {
            return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
                try await Self.stream(feed, output: output, metrics: state.metrics, writer: &writer)
            })
        }
        let object = try await request.body.consumeWithInboundCloseHandler { _ in
            try await Self.collect(feed, output: output, metrics: state.metrics)
        } onInboundClosed: {
            feed.cancel()
        }
        return JSON.response(object.value).closingConnection()
    }

    /// Waits for the engine to accept the prompt; an error before any token becomes an HTTP error.
    static func awaitStart(_ feed: EventFeed) async throws -> (prompt: Int, cached: Int) {
        while true {
            do {
                guard let item = try await feed.next() else { throw APIError(.internalServerError, "the request ended without output") }
                if case .event(.started(let p, let c)) = item { return (p, c) }
            } catch {
                feed.cancel()
                throw APIError.from(error)
            }
        }
    }

    static func collect(_ feed: EventFeed, output: ChatOutput, metrics: ServerMetrics) async throws -> SendableJSON {
        var output = output
        do {
            while let item = try await feed.next() {
                guard case .event(let e) = item else { continue }
                switch e {
                case .started: break
                case .token(let t): _ = output.add(t)
                case .finished(let r, let cached):
                    metrics.finished(r, cached: cached)
                    return SendableJSON(output.completion(r, cached: cached))
                }
            }
        } catch {
            metrics.failed()
            throw APIError.from(error)
        }
        throw APIError(.internalServerError, "the request ended without a result")
    }

    static func stream(_ feed: EventFeed, output: ChatOutput, metrics: ServerMetrics, writer: inout any ResponseBodyWriter) async throws {
        var output = output
        try await writer.write(SSE.event(output.chunk(delta: ["role": "assistant", "content": ""])))
        try await feed.writeSSE(to: &writer, metrics: metrics, token: { output.add($0) },
                                finish: { output.finish($0, cached: $1) })
    }
}

/// A JSON object passed across isolation boundaries (built and read by one task at a time).
struct SendableJSON: @unchecked Sendable {
    let value: [String: Any]
    init(_ value: [String: Any]) { self.value = value }
}
