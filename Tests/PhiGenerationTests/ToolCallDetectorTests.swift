import Foundation
import PhiKit
import XCTest

/// Streaming split of generated tokens into content and tool-call events, keyed on the `<|tool_call|>` id.
final class ToolCallDetectorTests: XCTestCase {
    func model() throws -> LoadedModel {
        try ModelLoader.load(path: GeneratorTests.fixtures.appendingPathComponent("phi4mini-tiny").path, threads: 1)
    }

    func testContentThenACallStreamedTokenByToken() throws {
        let m = try model()
        let open = try XCTUnwrap(m.toolCallTokenID), close = try XCTUnwrap(m.toolCallEndTokenID)
        var d = ToolCallDetector(model: m, makeID: { "call_1" })
        var out: [ToolCallDetector.Output] = []
        // Text spelling the tag is content; only the id opens the call.
        out += d.feed(id: 1, text: "Checking <|tool_call|> ")
        XCTAssertFalse(d.inToolCall)
        out += d.feed(id: open, text: "<|tool_call|>")
        XCTAssertTrue(d.inToolCall)
        for piece in [#"[{"name": "#, #""get_weather", "#, #""arguments": {"city""#, #": "Paris"}}]"#] {
            out += d.feed(id: 2, text: piece)
        }
        out += d.feed(id: close, text: "<|/tool_call|>")
        let end = d.finish()
        out += end.outputs
        let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city": "Paris"}"#)
        XCTAssertEqual(out, [
            .content("Checking <|tool_call|> "),
            .toolCall(.started(index: 0, id: "call_1", name: "get_weather")),
            .toolCall(.arguments(index: 0, fragment: #"{"city""#)),
            .toolCall(.arguments(index: 0, fragment: #": "Paris"}"#)),
            .toolCall(.finished(index: 0, call: call)),
        ])
        XCTAssertEqual(end.result, .calls([call], content: ""))
    }

    func testNoCallAndFallbackToContent() throws {
        let m = try model()
        let open = try XCTUnwrap(m.toolCallTokenID)
        var plain = ToolCallDetector(model: m)
        XCTAssertEqual(plain.feed(id: 1, text: "Hello"), [.content("Hello")])
        XCTAssertNil(plain.finish().result)
        // Prose after the open token: everything comes back as content, the tag included.
        var d = ToolCallDetector(model: m)
        XCTAssertEqual(d.feed(id: open, text: "<|tool_call|>"), [])
        XCTAssertEqual(d.feed(id: 1, text: "Sorry"), [.content("<|tool_call|>Sorry")])
        XCTAssertEqual(d.feed(id: 1, text: ", no."), [.content(", no.")])
        XCTAssertFalse(d.inToolCall)
        // Cut off: the held-back text is content at the end.
        var cut = ToolCallDetector(model: m)
        _ = cut.feed(id: open, text: "<|tool_call|>")
        XCTAssertEqual(cut.feed(id: 1, text: #"[{"na"#), [])
        let end = cut.finish()
        XCTAssertEqual(end.outputs, [.content(#"<|tool_call|>[{"na"#)])
        guard case .failure = end.result else { return XCTFail("expected a failure") }
    }

    func testForcedCallPrefill() throws {
        let m = try model()
        var d = ToolCallDetector(model: m, prefill: .toolCall(name: "f"), makeID: { "call_9" })
        XCTAssertTrue(d.inToolCall)
        XCTAssertEqual(d.feed(id: 1, text: #" {"a": 1}}]"#), [
            .toolCall(.started(index: 0, id: "call_9", name: "f")),
            .toolCall(.arguments(index: 0, fragment: #"{"a": 1}"#)),
            .toolCall(.finished(index: 0, call: ToolCall(id: "call_9", name: "f", arguments: #"{"a": 1}"#))),
        ])
    }
}
