import Foundation

/// A parsed and checked POST /v1/completions body: a raw prompt (text or token ids) and the sampling fields.
/// Decoding only (no model needed), so the fuzz target reaches it through `RequestDecoding`.
struct CompletionRequest {
    var text: String?
    var tokens: [Int]?
    var stream = false
    var includeUsage = false
    var model: String?
    var parameters = GenerationParameters()

    init(_ j: JSONFields) throws {
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
        stream = try j.bool("stream") ?? false
        includeUsage = try j.object("stream_options")?.bool("include_usage") ?? false
        var p = GenerationParameters()
        p.maxTokens = try j.int("max_tokens", in: 1...Int(Int32.max)) ?? 16
        try p.readSampling(j)
        if let lp = try j.int("logprobs", in: 0...5), lp > 0 { p.logprobs = true; p.topLogprobs = lp }
        parameters = p
        model = try j.string("model")
    }
}
