import Foundation
import PhiKit

/// Builds one chat completion from the engine's tokens: the final object, or the stream's chunks in OpenAI's
/// shape (role first, content deltas, the finish chunk, then usage when asked for).
struct ChatOutput {
    let id: String
    let model: String
    let created: Int
    let tokenizer: Tokenizer
    let includeUsage: Bool
    let logprobs: Bool
    let promptTokens: Int
    private(set) var content = ""
    private(set) var logprobEntries: [[String: Any]] = []

    init(id: String, model: String, created: Int, tokenizer: Tokenizer, includeUsage: Bool, logprobs: Bool, promptTokens: Int) {
        self.id = id
        self.model = model
        self.created = created
        self.tokenizer = tokenizer
        self.includeUsage = includeUsage
        self.logprobs = logprobs
        self.promptTokens = promptTokens
    }

    /// Adds a token; returns the stream chunks it makes.
    @discardableResult
    mutating func add(_ t: GeneratedToken) -> [[String: Any]] {
        var entry: [String: Any]?
        if logprobs, let lp = t.logprob {
            entry = logprobEntry(id: t.id, logprob: lp, top: t.topLogprobs)
            logprobEntries.append(entry!)
        }
        content += t.text
        guard !t.text.isEmpty || entry != nil else { return [] }
        return [chunk(delta: t.text.isEmpty ? [:] : ["content": t.text],
                      logprobs: entry.map { ["content": [$0]] })]
    }

    /// The finish chunk and, when asked for, the usage chunk.
    func finish(_ r: GenerationResult, cached: Int) -> [[String: Any]] {
        var chunks = [chunk(delta: [:], finish: r.finishReason.rawValue)]
        if includeUsage {
            var u = envelope()
            u["choices"] = [Any]()
            u["usage"] = usage(r, cached: cached)
            chunks.append(u)
        }
        return chunks
    }

    func completion(_ r: GenerationResult, cached: Int) -> [String: Any] {
        var o = envelope(object: "chat.completion")
        var choice: [String: Any] = [
            "index": 0, "finish_reason": r.finishReason.rawValue,
            "message": ["role": "assistant", "content": content, "refusal": NSNull()] as [String: Any],
            "logprobs": NSNull(),
        ]
        if logprobs { choice["logprobs"] = ["content": logprobEntries] }
        o["choices"] = [choice]
        o["usage"] = usage(r, cached: cached)
        return o
    }

    func usage(_ r: GenerationResult, cached: Int) -> [String: Any] {
        ["prompt_tokens": r.promptTokens.count, "completion_tokens": r.generatedTokens.count,
         "total_tokens": r.promptTokens.count + r.generatedTokens.count,
         "prompt_tokens_details": ["cached_tokens": cached]]
    }

    func envelope(object: String = "chat.completion.chunk") -> [String: Any] {
        ["id": id, "object": object, "created": created, "model": model, "system_fingerprint": "phikit"]
    }

    func chunk(delta: [String: Any], finish: String? = nil, logprobs: Any? = nil) -> [String: Any] {
        var c = envelope()
        c["choices"] = [["index": 0, "delta": delta, "logprobs": logprobs ?? NSNull(),
                         "finish_reason": finish ?? NSNull()] as [String: Any]]
        if includeUsage { c["usage"] = NSNull() }
        return c
    }

    func logprobEntry(id: Int, logprob: Float, top: [TokenLogprob]) -> [String: Any] {
        func one(_ id: Int, _ lp: Float) -> [String: Any] {
            let text = tokenizer.decode([id], skipSpecial: false)
            return ["token": text, "logprob": Double(lp).isFinite ? Double(lp) : -9999.0, "bytes": Array(text.utf8).map(Int.init)]
        }
        var e = one(id, logprob)
        e["top_logprobs"] = top.map { one($0.id, $0.logprob) }
        return e
    }
}
