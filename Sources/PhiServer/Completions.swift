import Foundation
import Hummingbird
import NIOCore
import PhiKit

/// POST /v1/completions: a raw prompt (no chat scaffolding).
struct Completions {
    let state: ServerState

    func handle(_ request: Request, body: Data) async throws -> Response {
        let (engine, bridge) = try state.ready()
        let j = try JSONFields.parse(body)
        var text: String?, tokens: [Int]?
        switch j.object["prompt"] {
        case let s as String: text = s
        case let a as [String] where a.count == 1: text = a[0]
        case let a as [Any] where !a.isEmpty && a.allSatisfy({ $0 is Int }):
            tokens = a.compactMap { $0 as? Int }
        default:
            throw APIError.invalid("'prompt' must be a string (or one string, or an array of token ids)", param: "prompt")
        }
        if try j.bool("echo") == true { throw APIError.invalid("'echo' is not supported", param: "echo") }
        if j.has("suffix") { throw APIError.invalid("'suffix' is not supported", param: "suffix") }
        if let n = try j.int("n", in: Int.min...Int.max), n != 1 { throw APIError.invalid("only n = 1 is supported", param: "n") }
        if let b = try j.int("best_of", in: Int.min...Int.max), b != 1 { throw APIError.invalid("only best_of = 1 is supported", param: "best_of") }
        let stream = try j.bool("stream") ?? false
        let includeUsage = try j.object("stream_options")?.bool("include_usage") ?? false
        var p = GenerationParameters()
        p.maxTokens = try j.int("max_tokens", in: 1...Int(Int32.max)) ?? 16
        try p.readSampling(j)
        if let lp = try j.int("logprobs", in: 0...5), lp > 0 { p.logprobs = true; p.topLogprobs = lp }
        var options = try p.options(configuration: state.configuration, model: bridge.model)
        options.forcedOutput = state.nextForcedOutput(bridge.model)
        let engineRequest = try bridge.completionRequest(text: text, tokens: tokens, options: options)
        let feed = EventFeed(try engine.submit(engineRequest), keepAliveSeconds: stream ? state.configuration.keepAliveSeconds : 0)
        _ = try await ChatCompletions.awaitStart(feed)
        let id = "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
        let model = (try j.string("model")) ?? state.configuration.modelID
        let created = Int(Date().timeIntervalSince1970)
        let metrics = state.metrics
        func envelope() -> [String: Any] { ["id": String(id), "object": "text_completion", "created": created, "model": model] }
        @Sendable func choice(_ text: String, _ finish: String?) -> [String: Any] {
            ["index": 0, "text": text, "logprobs": NSNull(), "finish_reason": finish ?? NSNull()]
        }
        @Sendable func usage(_ r: GenerationResult, _ cached: Int) -> [String: Any] {
            ["prompt_tokens": r.promptTokens.count, "completion_tokens": r.generatedTokens.count,
             "total_tokens": r.promptTokens.count + r.generatedTokens.count, "prompt_tokens_details": ["cached_tokens": cached]]
        }
        if stream {
            let chunkEnvelope = SendableJSON(envelope())
            return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
                func chunk(_ text: String, _ finish: String?) -> [String: Any] {
                    var c = chunkEnvelope.value
                    c["choices"] = [choice(text, finish)]
                    if includeUsage { c["usage"] = NSNull() }
                    return c
                }
                try await feed.writeSSE(to: &writer, metrics: metrics, token: { t in
                    t.text.isEmpty ? [] : [chunk(t.text, nil)]
                }, finish: { r, cached in
                    var chunks = [chunk("", r.finishReason.rawValue)]
                    if includeUsage {
                        var u = chunkEnvelope.value
                        u["choices"] = [Any]()
                        u["usage"] = usage(r, cached)
                        chunks.append(u)
                    }
                    return chunks
                })
            })
        }
        let result = try await request.body.consumeWithInboundCloseHandler { _ -> SendableJSON in
            var text = ""
            do {
                while let item = try await feed.next() {
                    guard case .event(let e) = item else { continue }
                    switch e {
                    case .started: break
                    case .token(let t): text += t.text
                    case .finished(let r, let cached):
                        metrics.finished(r, cached: cached)
                        var o = envelope()
                        o["choices"] = [choice(text, r.finishReason.rawValue)]
                        o["usage"] = usage(r, cached)
                        return SendableJSON(o)
                    }
                }
            } catch {
                metrics.failed()
                throw APIError.from(error)
            }
            throw APIError(.internalServerError, "the request ended without a result")
        } onInboundClosed: {
            feed.cancel()
        }
        return JSON.response(result.value).closingConnection()
    }
}
