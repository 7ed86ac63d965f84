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
    /// Splits content from Phi-4's `<|tool_call|>…` output (nil when no tools were offered: then it is all text).
    private var detector: ToolCallDetector?
    private var calls: [ToolCall] = []
    private var settled = false

    init(id: String, model: String, created: Int, loaded: LoadedModel, includeUsage: Bool, logprobs: Bool, promptTokens: Int,
         toolsOffered: Bool) {
        self.id = id
        self.model = model
        self.created = created
        tokenizer = loaded.tokenizer
        self.includeUsage = includeUsage
        self.logprobs = logprobs
        self.promptTokens = promptTokens
        detector = toolsOffered ? ToolCallDetector(model: loaded) : nil
    }

    /// Adds a token; returns the stream chunks it makes.
    mutating func add(_ t: GeneratedToken) -> [[String: Any]] {
        var entry: [String: Any]?
        if logprobs, let lp = t.logprob {
            let e = logprobEntry(id: t.id, logprob: lp, top: t.topLogprobs)
            logprobEntries.append(e)
            entry = e
        }
        let outputs: [ToolCallDetector.Output]
        if var d = detector {
            outputs = d.feed(t)
            detector = d
        } else {
            outputs = t.text.isEmpty ? [] : [.content(t.text)]
        }
        var chunks = deltas(outputs)
        if let entry {
            if chunks.isEmpty { chunks = [chunk(delta: [:])] }
            var c = chunks[0]
            if var choices = c["choices"] as? [[String: Any]] {
                choices[0]["logprobs"] = ["content": [entry]]
                c["choices"] = choices
            }
            chunks[0] = c
        }
        return chunks
    }

    /// Stream chunks for detector outputs (content and tool-call deltas in OpenAI's shape).
    private mutating func deltas(_ outputs: [ToolCallDetector.Output]) -> [[String: Any]] {
        var chunks: [[String: Any]] = []
        for o in outputs {
            switch o {
            case .content(let text):
                content += text
                if !text.isEmpty { chunks.append(chunk(delta: ["content": text])) }
            case .toolCall(.started(let index, let callID, let name)):
                chunks.append(chunk(delta: ["tool_calls": [["index": index, "id": callID, "type": "function",
                                                            "function": ["name": name, "arguments": ""]] as [String: Any]]]))
            case .toolCall(.arguments(let index, let fragment)):
                guard !fragment.isEmpty else { continue }
                chunks.append(chunk(delta: ["tool_calls": [["index": index, "function": ["arguments": fragment]] as [String: Any]]]))
            case .toolCall(.finished(_, let call)):
                calls.append(call)
            }
        }
        return chunks
    }

    /// Flushes the tool-call reader at the end of generation; returns the chunks it makes.
    private mutating func settle() -> [[String: Any]] {
        guard !settled else { return [] }
        settled = true
        guard var d = detector else { return [] }
        let (outputs, result) = d.finish()
        detector = d
        var chunks = deltas(outputs)
        if case .calls(let all, let trailing)? = result {
            calls = all
            if !trailing.isEmpty {
                content += trailing
                chunks.append(chunk(delta: ["content": trailing]))
            }
        } else {
            calls = []
        }
        return chunks
    }

    func finishReason(_ r: GenerationResult) -> String { calls.isEmpty ? r.finishReason.rawValue : "tool_calls" }

    /// The last deltas, the finish chunk and, when asked for, the usage chunk.
    mutating func finish(_ r: GenerationResult, cached: Int) -> [[String: Any]] {
        var chunks = settle()
        chunks.append(chunk(delta: [:], finish: finishReason(r)))
        if includeUsage {
            var u = envelope()
            u["choices"] = [Any]()
            u["usage"] = usage(r, cached: cached)
            chunks.append(u)
        }
        return chunks
    }

    mutating func completion(_ r: GenerationResult, cached: Int) -> [String: Any] {
        _ = settle()
        var o = envelope(object: "chat.completion")
        var message: [String: Any] = ["role": "assistant", "content": content, "refusal": NSNull()]
        if !calls.isEmpty {
            if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { message["content"] = NSNull() }
            message["tool_calls"] = calls.map { c -> [String: Any] in
                ["id": c.id, "type": "function", "function": ["name": c.name, "arguments": c.arguments]]
            }
        }
        var choice: [String: Any] = ["index": 0, "finish_reason": finishReason(r), "message": message, "logprobs": NSNull()]
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
