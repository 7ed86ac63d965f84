import Foundation
import PhiTokenizer

/// Reads what Phi-4-mini emits after `<|tool_call|>` as it streams, tolerant of the forms it really produces:
/// `[{"name": …, "arguments": {…}}]`, with or without the list brackets and the closing `<|/tool_call|>`,
/// several calls, `parameters` for `arguments`, arguments as a JSON string holding the object, and the
/// `functools[…]` form some templates teach. Strings and nested arrays are scanned as JSON, so a `]` or `}` inside
/// them ends nothing.
///
/// Feed it text deltas; it emits, per call: `started` as soon as the name is known (with a fresh `call_…` id),
/// `arguments` fragments (the raw JSON text of the arguments as it arrives: their concatenation equals the
/// call's final `arguments`), and `finished` once the call's object is complete and checked with a real JSON
/// parser. The events do not depend on how the text is cut into deltas, only when they come out.
/// Once the text cannot be a tool call, `failure` is set and nothing more is emitted; `finish()` then returns
/// `.failure`, and the caller shows the text as content.
public struct ToolCallStreamParser {
    public enum Event: Sendable, Equatable {
        case started(index: Int, id: String, name: String)
        case arguments(index: Int, fragment: String)
        case finished(index: Int, call: ToolCall)
    }

    /// Everything fed so far.
    public private(set) var text = ""
    /// Calls completed so far.
    public private(set) var calls: [ToolCall] = []
    /// Why the text is not a tool call (nil while it may still be one).
    public private(set) var failure: String?
    /// Text after a closing `<|/tool_call|>` that opens no further call (normally empty).
    public private(set) var trailing = ""

    private let makeID: () -> String
    private var state = State.between
    private var word = ""           // a top-level keyword being read: functools, <|tool_call|>, <|/tool_call|>
    private var listOpen = false
    private var object = ObjectScan()
    private var events: [Event] = []
    private var fragment = ""       // argument text not yet emitted

    private enum State { case between, inObject, afterClose, failed }
    private static let keywords = ["functools", "<|tool_call|>", "<|/tool_call|>"]

    public init(makeID: @escaping () -> String = ToolCallID.random) {
        self.makeID = makeID
    }

    /// Reads a delta; returns the events it completes.
    public mutating func feed(_ delta: String) -> [Event] {
        text += delta
        for c in delta.unicodeScalars {
            if state == .failed { break }
            step(c)
        }
        flushFragment()
        defer { events = [] }
        return events
    }

    /// Ends the stream: the last events and the outcome.
    public mutating func finish() -> (events: [Event], result: ToolCallParse) {
        flushFragment()
        let last = events
        events = []
        if state == .between, !word.isEmpty, !"<|/tool_call|>".hasPrefix(word) {
            fail("unexpected text \"\(word)\"")
        }
        if state == .inObject { fail("the call is cut off") }
        if let failure { return (last, .failure(failure)) }
        guard !calls.isEmpty else { return (last, .failure("no tool call")) }
        return (last, .calls(calls, content: trailing))
    }

    private mutating func fail(_ reason: String) {
        if failure == nil { failure = reason }
        state = .failed
    }

    private mutating func step(_ c: Unicode.Scalar) {
        switch state {
        case .failed: return
        case .afterClose:
            trailing.unicodeScalars.append(c)
            if trailing.hasSuffix("<|tool_call|>") {   // another block of calls
                trailing.removeLast("<|tool_call|>".count)
                state = .between
            }
        case .between: between(c)
        case .inObject:
            switch object.step(c) {
            case .more: noteProgress()
            case .failed(let reason): fail(reason)
            case .complete: completeObject()
            }
        }
    }

    /// Top level: brackets, separators, keywords, and the start of each call object.
    private mutating func between(_ c: Unicode.Scalar) {
        if !word.isEmpty, word != "functools" {   // inside a tag
            word.unicodeScalars.append(c)
            if word == "<|/tool_call|>" {
                word = ""
                listOpen = false
                state = .afterClose
            } else if word == "<|tool_call|>" {
                word = ""
            } else if !Self.keywords.contains(where: { $0.hasPrefix(word) }) {
                fail("unexpected text \"\(word)\"")
            }
            return
        }
        switch c {
        case " ", "\n", "\t", "\r", ",", ";":
            return
        case "[":
            guard !listOpen else { fail("unexpected ["); return }
            word = ""
            listOpen = true
        case "]":
            guard listOpen, word.isEmpty else { fail("unexpected ]"); return }
            listOpen = false
        case "{":
            guard word.isEmpty else { fail("unexpected text \"\(word)\""); return }
            object = ObjectScan()
            _ = object.step(c)
            state = .inObject
        default:
            guard word.isEmpty else { fail("unexpected text after functools"); return }
            word.unicodeScalars.append(c)
            if !Self.keywords.contains(where: { $0.hasPrefix(word) }) { fail("unexpected text \"\(word)\"") }
        }
    }

    /// Emits `started` once the name is known, and queues argument text.
    private mutating func noteProgress() {
        if object.id == nil, let name = object.name {
            let id = makeID()
            object.id = id
            events.append(.started(index: calls.count, id: id, name: name))
        }
        if object.id != nil, !object.unsent.isEmpty {
            fragment += object.unsent
            object.unsent = ""
        }
    }

    private mutating func flushFragment() {
        guard !fragment.isEmpty else { return }
        events.append(.arguments(index: calls.count, fragment: fragment))
        fragment = ""
    }

    /// A call object closed: check it with the JSON parser, settle its arguments, emit `finished`.
    private mutating func completeObject() {
        state = .between
        guard let name = object.name, !name.isEmpty else { fail("a call without a \"name\""); return }
        guard ToolJSON.callName(inObject: object.text) == name else { fail("a call that is not valid JSON"); return }
        noteProgress()
        var arguments = object.arguments
        var tail = ""
        if !object.hasArguments {
            arguments = "{}"
            tail = arguments
        } else if object.argumentsAreString {
            // A JSON string holding the arguments: its content when that is JSON, else the string itself.
            let content = ToolJSON.string(literal: object.arguments) ?? ""
            arguments = ToolJSON.isValid(content) ? content.trimmingCharacters(in: .whitespacesAndNewlines) : object.arguments
            tail = arguments
        } else if !ToolJSON.isValid(arguments) {
            fail("arguments that are not valid JSON")
            return
        }
        fragment += tail
        flushFragment()
        let call = ToolCall(id: object.id ?? "", name: name, arguments: arguments)
        events.append(.finished(index: calls.count, call: call))
        calls.append(call)
    }
}

/// Fresh call ids in OpenAI's shape.
public enum ToolCallID {
    /// `call_` and 24 random letters and digits.
    public static func random() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var g = SystemRandomNumberGenerator()
        return "call_" + String((0..<24).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
