import XCTest
import PhiKit

/// The tolerant tool-call reader on what Phi-4-mini really emits after `<|tool_call|>`, batch and streamed.
final class ToolCallParserTests: XCTestCase {
    /// (what follows `<|tool_call|>`, the calls as (name, arguments text), or nil for a failure).
    static let cases: [(String, [(String, String)]?)] = [
        // The trained form, with and without the closing tag.
        (#"[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>"#, [("get_weather", #"{"city": "Paris"}"#)]),
        (#"[{"name": "get_weather", "arguments": {"city": "Paris"}}]"#, [("get_weather", #"{"city": "Paris"}"#)]),
        // A bare object, and a list without brackets.
        (#"{"name": "get_weather", "arguments": {"city": "Paris"}}"#, [("get_weather", #"{"city": "Paris"}"#)]),
        (#"{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": 1}}"#, [("a", "{}"), ("b", #"{"x": 1}"#)]),
        // Several calls; nested arrays; strings holding ] and } (vLLM's phi4_mini_json cuts these).
        (#"[{"name": "a", "arguments": {"q": "x"}}, {"name": "b", "arguments": {"n": [1, [2, 3]]}}]<|/tool_call|>"#,
         [("a", #"{"q": "x"}"#), ("b", #"{"n": [1, [2, 3]]}"#)]),
        (#"[{"name": "search", "arguments": {"query": "a]b}c[", "filters": [["x", "]"], []]}}]"#,
         [("search", #"{"query": "a]b}c[", "filters": [["x", "]"], []]}"#)]),
        // `parameters` for `arguments`; arguments as a JSON string holding the object.
        (#"[{"name": "f", "parameters": {"a": 1}}]"#, [("f", #"{"a": 1}"#)]),
        (#"[{"name": "f", "arguments": "{\"a\": 1, \"b\": \"]\"}"}]"#, [("f", #"{"a": 1, "b": "]"}"#)]),
        (#"{"name":"f","arguments":"hello"}"#, [("f", #""hello""#)]),
        // The functools[...] form.
        (#"functools[{"name": "f", "arguments": {"a": 1}}]"#, [("f", #"{"a": 1}"#)]),
        // Pretty-printed, keys in another order, extra keys, no arguments.
        ("\n[\n  {\n    \"name\": \"f\",\n    \"arguments\": {\n      \"a\": 1\n    }\n  }\n]\n<|/tool_call|>", [("f", "{\n      \"a\": 1\n    }")]),
        (#"[{"arguments": {"a": 1}, "name": "f"}]"#, [("f", #"{"a": 1}"#)]),
        (#"[{"type": "function", "name": "f", "id": 3, "arguments": {"a": null, "b": true, "c": -1.5e3}}]"#,
         [("f", #"{"a": null, "b": true, "c": -1.5e3}"#)]),
        (#"[{"name": "now"}]"#, [("now", "{}")]),
        // OpenAI's shape, with arguments as an object or as a string.
        (#"[{"id": "x", "type": "function", "function": {"name": "f", "arguments": {"a": [1, "]"]}}}]"#, [("f", #"{"a": [1, "]"]}"#)]),
        (#"{"type": "function", "function": {"arguments": "{\"a\": 2}", "name": "g"}}"#, [("g", #"{"a": 2}"#)]),
        // Escapes and non-ASCII text.
        (#"[{"name": "translate", "arguments": {"text": "naïve \"quoted\" \\ ✓ 😀 \u00e9"}}]"#,
         [("translate", #"{"text": "naïve \"quoted\" \\ ✓ 😀 \u00e9"}"#)]),
        (#"[{"name":"f","arguments":{"a":[1,2,{"b":"}"}]}}]"#, [("f", #"{"a":[1,2,{"b":"}"}]}"#)]),
        // Two blocks of calls; text after the last closing tag.
        (#"[{"name": "a", "arguments": {}}]<|/tool_call|><|tool_call|>[{"name": "b", "arguments": {}}]<|/tool_call|>"#,
         [("a", "{}"), ("b", "{}")]),
        (#"[{"name": "a", "arguments": {}}]<|/tool_call|>Done."#, [("a", "{}")]),
        // Not a call: prose, cut off, no name, invalid JSON, nothing, Python quotes, a list of strings.
        ("I think I should call get_weather for Paris.", nil),
        (#"[{"name": "f", "arguments": {"a": 1"#, nil),
        (#"[{"arguments": {}}]"#, nil),
        (#"[{"name": "f", "arguments": {a: 1}}]"#, nil),
        ("", nil),
        (#"[{'name': 'f'}]"#, nil),
        (#"["f"]"#, nil),
        (#"[{"name": 3, "arguments": {}}]"#, nil),
    ]

    func testBatchReadsEveryCase() {
        XCTAssertGreaterThanOrEqual(Self.cases.count, 15)
        for (text, expected) in Self.cases {
            let result = ToolCallParser.parse(text)
            switch (result, expected) {
            case (.calls(let calls, _), let want?):
                XCTAssertEqual(calls.map(\.name), want.map(\.0), text)
                XCTAssertEqual(calls.map(\.arguments), want.map(\.1), text)
                for call in calls {
                    XCTAssertTrue(call.id.hasPrefix("call_") && call.id.count == 29, call.id)
                    // Every arguments text is JSON a client can load.
                    XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(call.arguments.utf8), options: .fragmentsAllowed), text)
                }
            case (.failure(let reason), nil):
                XCTAssertFalse(reason.isEmpty)
            default:
                XCTFail("\(text): got \(result), expected \(String(describing: expected))")
            }
        }
    }

    func testTrailingTextIsContent() {
        guard case .calls(_, let content) = ToolCallParser.parse(#"[{"name": "a", "arguments": {}}]<|/tool_call|>Done."#) else {
            return XCTFail("not read")
        }
        XCTAssertEqual(content, "Done.")
    }

    /// Every 2-chunk split of every case gives the batch result, with events in order: `started` (with the id
    /// `finished` repeats) before the call's fragments, fragments that concatenate to the final arguments.
    func testStreamingEqualsBatchAtEverySplit() {
        var splits = 0
        for (text, _) in Self.cases {
            let batch = ToolCallParser.parse(text, makeID: { "call_x" })
            let chars = Array(text)
            for cut in 0...chars.count {
                var ids = 0
                var parser = ToolCallStreamParser(makeID: { ids += 1; return "call_\(ids)" })
                var events = parser.feed(String(chars[..<cut]))
                events += parser.feed(String(chars[cut...]))
                let end = parser.finish()
                events += end.events
                splits += 1
                XCTAssertEqual(Self.withoutIDs(end.result), Self.withoutIDs(batch), "\(text) cut at \(cut)")
                guard case .calls(let calls, _) = end.result else { continue }
                var started: [Int: (id: String, name: String)] = [:], fragments: [Int: String] = [:], finished: [ToolCall] = []
                for e in events {
                    switch e {
                    case .started(let i, let id, let name):
                        XCTAssertNil(started[i]); XCTAssertEqual(i, started.count)
                        started[i] = (id, name)
                    case .arguments(let i, let fragment):
                        XCTAssertNotNil(started[i], "fragment before started: \(text) cut at \(cut)")
                        XCTAssertFalse(fragment.isEmpty)
                        fragments[i, default: ""] += fragment
                    case .finished(let i, let call):
                        XCTAssertEqual(i, finished.count)
                        XCTAssertEqual(call.id, started[i]?.id)
                        finished.append(call)
                    }
                }
                XCTAssertEqual(finished, calls)
                for (i, call) in calls.enumerated() {
                    XCTAssertEqual(started[i]?.name, call.name)
                    XCTAssertEqual(fragments[i] ?? "", call.arguments, "\(text) cut at \(cut)")
                }
            }
        }
        XCTAssertGreaterThan(splits, 500)
    }

    /// Character by character, the name comes out as soon as its string closes and arguments as they arrive.
    func testStreamingEmitsEarly() {
        var parser = ToolCallStreamParser(makeID: { "call_1" })
        XCTAssertEqual(parser.feed(#"[{"name": "get_weather""#), [.started(index: 0, id: "call_1", name: "get_weather")])
        XCTAssertEqual(parser.feed(#", "arguments": {"ci"#), [.arguments(index: 0, fragment: #"{"ci"#)])
        XCTAssertEqual(parser.feed(#"ty": "Paris"}"#), [.arguments(index: 0, fragment: #"ty": "Paris"}"#)])
        let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city": "Paris"}"#)
        XCTAssertEqual(parser.feed("}"), [.finished(index: 0, call: call)])
        XCTAssertEqual(parser.feed("]"), [])
        XCTAssertEqual(parser.finish().result, .calls([call], content: ""))
        // Prose fails at once and emits nothing more.
        var prose = ToolCallStreamParser()
        XCTAssertEqual(prose.feed("Sure! "), [])
        XCTAssertNotNil(prose.failure)
        XCTAssertEqual(prose.feed(#"{"name": "f"}"#), [])
        XCTAssertEqual(prose.text, #"Sure! {"name": "f"}"#)
    }

    /// Mutated outputs (cut, characters dropped, inserted or swapped) never crash, and stream as they parse
    /// whole, cut in three anywhere.
    func testMutatedOutputsStreamAsTheyParse() {
        var rng = SeededRandom(seed: 14)
        let alphabet = Array("{}[]\",: \\nabc0<|/>_-")
        var readable = 0
        for round in 0..<3000 {
            var chars = Array(Self.cases[round % Self.cases.count].0)
            for _ in 0..<(1 + Int(rng.next() % 3)) where !chars.isEmpty {
                let at = Int(rng.next() % UInt64(chars.count))
                switch rng.next() % 4 {
                case 0: chars = Array(chars[..<at])
                case 1: chars.remove(at: at)
                case 2: chars.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                default: chars.swapAt(at, Int(rng.next() % UInt64(chars.count)))
                }
            }
            let text = String(chars)
            let batch = ToolCallParser.parse(text)
            let a = Int(rng.next() % UInt64(chars.count + 1)), b = Int(rng.next() % UInt64(chars.count + 1))
            let (lo, hi) = (min(a, b), max(a, b))
            var parser = ToolCallStreamParser()
            var fragments: [Int: String] = [:]
            var events = parser.feed(String(chars[..<lo])) + parser.feed(String(chars[lo..<hi])) + parser.feed(String(chars[hi...]))
            let end = parser.finish()
            events += end.events
            XCTAssertEqual(Self.withoutIDs(end.result), Self.withoutIDs(batch), text)
            for case .arguments(let i, let f) in events { fragments[i, default: ""] += f }
            if case .calls(let calls, _) = end.result {
                readable += 1
                for (i, call) in calls.enumerated() { XCTAssertEqual(fragments[i] ?? "", call.arguments, text) }
            }
        }
        XCTAssertGreaterThan(readable, 100)  // the mutations leave many outputs readable
    }

    static func withoutIDs(_ r: ToolCallParse) -> ToolCallParse {
        guard case .calls(let calls, let content) = r else { return .failure("") }
        return .calls(calls.map { ToolCall(id: "", name: $0.name, arguments: $0.arguments) }, content: content)
    }
}
