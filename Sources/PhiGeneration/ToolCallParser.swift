import PhiTokenizer

/// The outcome of reading a tool call.
public enum ToolCallParse: Sendable, Equatable {
    /// The calls, and any text after the last `<|/tool_call|>` that opened no further call.
    case calls([ToolCall], content: String)
    /// Why the text is not a tool call; the caller shows the text as content.
    case failure(String)
}

/// What a model's generated tokens hold: content, then the tool calls it started with `<|tool_call|>`.
public struct ToolCallOutput: Sendable, Equatable {
    /// Text before the first `<|tool_call|>` (and after the last closing tag); all the text when the calls
    /// could not be read.
    public var content: String
    public var toolCalls: [ToolCall]
    /// Why the calls could not be read, if they could not.
    public var failure: String?
}

extension ToolCallOutput {
    /// The calls as JSONSerialization values, `[{"name": …, "arguments": {…}}]` with the arguments parsed (their
    /// text when it is not JSON), as `phi4 run --json` prints them.
    public var jsonToolCalls: [[String: Any]] {
        toolCalls.map { ["name": $0.name, "arguments": ToolJSON.value($0.arguments) ?? $0.arguments] }
    }
}

/// Batch reading of tool calls, the same reading as `ToolCallStreamParser` (see there for the tolerated forms).
public enum ToolCallParser {
    /// Reads the text generated after `<|tool_call|>`.
    public static func parse(_ text: String, makeID: @escaping () -> String = ToolCallID.random) -> ToolCallParse {
        var parser = ToolCallStreamParser(makeID: makeID)
        _ = parser.feed(text)
        return parser.finish().result
    }

    /// Splits generated tokens at the first `<|tool_call|>` id (the detection is on that id, never on text, so
    /// text that merely looks like a call is content) and reads the calls after it. Nil when the model made no
    /// call (or its vocabulary has no `<|tool_call|>`).
    public static func extract(from generated: [Int], model: LoadedModel) -> ToolCallOutput? {
        guard let open = model.toolCallTokenID, let at = generated.firstIndex(of: open) else { return nil }
        let tokenizer = model.tokenizer
        let stops = model.eosTokenIDs
        let body = generated[(at + 1)...].filter { !stops.contains($0) }
        let content = tokenizer.decode(Array(generated[..<at]), skipSpecial: true)
        // The call tags are plain text for the parser even where a vocabulary flags them special.
        let callText = tokenizer.decode(Array(body), skipSpecial: false)
        switch parse(callText) {
        case .calls(let calls, let trailing):
            return ToolCallOutput(content: content + trailing, toolCalls: calls, failure: nil)
        case .failure(let reason):
            let all = tokenizer.decode(generated.filter { !stops.contains($0) }, skipSpecial: true)
            return ToolCallOutput(content: all, toolCalls: [], failure: reason)
        }
    }
}
