import Foundation
import PhiTokenizer

/// Splits a stream of generated tokens into content and tool calls for a streaming client (SSE): text is
/// content until the `<|tool_call|>` token id is generated (the detection is on that id, never on text), then
/// it goes to a `ToolCallStreamParser`. With a prefill that opened the call, it starts in the call.
///
/// When the call text turns out not to be a call before any call event was sent, everything held back
/// (`<|tool_call|>` included, as plain `run` prints it) comes out as content and the rest stays content.
public struct ToolCallDetector {
    public enum Output: Sendable, Equatable {
        case content(String)
        case toolCall(ToolCallStreamParser.Event)
    }

    private let openID: Int?
    private var parser: ToolCallStreamParser?
    private var sentEvents = false
    private var fellBack = false
    private var pending: [Output] = []   // events of the prefill, sent with the first output
    private let makeID: () -> String
    /// The text of the open tag, as a decoded `<|tool_call|>` token reads.
    static let openTag = "<|tool_call|>"

    /// `prefill` is the one the prompt was built with (`.toolCall` starts inside the call).
    public init(model: LoadedModel, prefill: AssistantPrefill? = nil, makeID: @escaping () -> String = ToolCallID.random) {
        openID = model.toolCallTokenID
        self.makeID = makeID
        if case .toolCall = prefill {
            var p = ToolCallStreamParser(makeID: makeID)
            pending = p.feed(prefill?.toolCallText ?? "").map(Output.toolCall)
            sentEvents = !pending.isEmpty
            parser = p
        }
    }

    /// Whether a call has started (the open token was generated or prefilled).
    public var inToolCall: Bool { parser != nil && !fellBack }

    /// One generated token (its id and the text that became visible with it).
    public mutating func feed(_ token: GeneratedToken) -> [Output] { feed(id: token.id, text: token.text) }

    public mutating func feed(id: Int, text: String) -> [Output] {
        let first = pending
        pending = []
        return first + step(id: id, text: text)
    }

    private mutating func step(id: Int, text: String) -> [Output] {
        if fellBack { return text.isEmpty ? [] : [.content(text)] }
        if parser == nil {
            guard id == openID else { return text.isEmpty ? [] : [.content(text)] }
            parser = ToolCallStreamParser(makeID: makeID)
            // The token's visible text may carry held-back content before the tag.
            guard let tag = text.range(of: Self.openTag) else { return text.isEmpty ? [] : [.content(text)] }
            let before = String(text[..<tag.lowerBound])
            return (before.isEmpty ? [] : [.content(before)]) + parse(String(text[tag.upperBound...]))
        }
        return parse(text)
    }

    /// The end of generation: the last events and the outcome (nil when no call started or it fell back to content).
    public mutating func finish() -> (outputs: [Output], result: ToolCallParse?) {
        let first = pending
        pending = []
        let (outputs, result) = settle()
        return (first + outputs, result)
    }

    private mutating func settle() -> (outputs: [Output], result: ToolCallParse?) {
        guard var p = parser, !fellBack else { return ([], nil) }
        let (events, result) = p.finish()
        parser = p
        if case .failure = result, !sentEvents {
            fellBack = true
            return ([.content(Self.openTag + p.text)], result)
        }
        return (events.map(Output.toolCall), result)
    }

    private mutating func parse(_ text: String) -> [Output] {
        guard var p = parser else { return [] }
        let events = p.feed(text)
        parser = p
        if p.failure != nil, !sentEvents {
            fellBack = true
            return [.content(Self.openTag + p.text)]
        }
        if !events.isEmpty { sentEvents = true }
        return events.map(Output.toolCall)
    }
}
