import Foundation
import HummingbirdTesting
import NIOCore
import PhiKit
import PhiServer
import XCTest

/// Tool calls through the server on the tiny Phi-4-multimodal (its 8k context fits a tool list); the random
/// model's output is forced where a test needs a specific call, everything else is the real path.
final class ToolCallTests: ServerTestCase {
    static let tools: [[String: Any]] = [["type": "function", "function": [
        "name": "get_weather", "description": "Current weather",
        "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"],
                       "additionalProperties": false]]]]
    static let call = #"<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris [FR]", "note": "a ] inside"}}]<|/tool_call|>"#
    let ask: [[String: Any]] = [["role": "user", "content": "Weather in Paris?"]]

    func testForcedCallBecomesToolCalls() async throws {
        try await withServer("phi4mm-tiny", configure: { $0.forcedOutputs = [Self.call] }) { client, _ in
            let o = try self.json(try await self.post(client, "/v1/chat/completions", ["messages": self.ask, "tools": Self.tools]))
            let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual(choice["finish_reason"] as? String, "tool_calls")
            let message = try XCTUnwrap(choice["message"] as? [String: Any])
            XCTAssertTrue(message["content"] is NSNull)
            let call = try XCTUnwrap((message["tool_calls"] as? [[String: Any]])?.first)
            XCTAssertEqual(call["type"] as? String, "function")
            XCTAssertTrue((call["id"] as? String)?.isEmpty == false)
            let f = try XCTUnwrap(call["function"] as? [String: Any])
            XCTAssertEqual(f["name"] as? String, "get_weather")
            let args = try self.decode(try XCTUnwrap(f["arguments"] as? String))
            XCTAssertEqual(args["city"] as? String, "Paris [FR]")
            XCTAssertEqual(args["note"] as? String, "a ] inside")
        }
    }

    func testStreamedCallDeltasInOpenAIShape() async throws {
        try await withServer("phi4mm-tiny", configure: { $0.forcedOutputs = [Self.call] }) { client, _ in
            let r = try await self.post(client, "/v1/chat/completions", ["messages": self.ask, "tools": Self.tools, "stream": true])
            let (events, _) = self.sseEvents(r)
            XCTAssertEqual(events.last, "[DONE]")
            var name = "", args = "", ids: [String] = [], finish: String?, content = ""
            for c in try events.dropLast().map(self.decode) {
                let choice = try XCTUnwrap((c["choices"] as? [[String: Any]])?.first)
                let delta = try XCTUnwrap(choice["delta"] as? [String: Any])
                content += delta["content"] as? String ?? ""
                for tc in delta["tool_calls"] as? [[String: Any]] ?? [] {
                    XCTAssertEqual(tc["index"] as? Int, 0)
                    if let id = tc["id"] as? String { ids.append(id) }
                    let f = tc["function"] as? [String: Any]
                    name += f?["name"] as? String ?? ""
                    args += f?["arguments"] as? String ?? ""
                }
                if let f = choice["finish_reason"] as? String { finish = f }
            }
            XCTAssertEqual(content, "", "no content deltas for a call")
            XCTAssertEqual(ids.count, 1, "the id comes once, with the name")
            XCTAssertEqual(name, "get_weather")
            XCTAssertEqual(try self.decode(args)["city"] as? String, "Paris [FR]")
            XCTAssertEqual(finish, "tool_calls")
        }
    }

    func testRoundTripRendersCallAndResult() async throws {
        try await withServer("phi4mm-tiny", configure: { $0.forcedOutputs = ["It is sunny."] }) { client, _ in
            let history: [[String: Any]] = self.ask + [
                ["role": "assistant", "content": NSNull(), "tool_calls": [["id": "call_1", "type": "function",
                    "function": ["name": "get_weather", "arguments": "{\"city\": \"Paris\"}"]]]],
                ["role": "tool", "tool_call_id": "call_1", "content": "{\"sky\": \"sunny\"}"],
            ]
            let o = try self.json(try await self.post(client, "/v1/chat/completions", ["messages": history, "tools": Self.tools]))
            let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String, "It is sunny.")
            XCTAssertEqual(choice["finish_reason"] as? String, "stop")
            // The prompt holds the call in Phi-4's tags (one special id each), not as text.
            let m = try Self.model("phi4mm-tiny")
            let prompt = try m.promptBuilder.build([
                .user("Weather in Paris?"),
                .assistant("", toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: "{\"city\": \"Paris\"}")]),
                .tool("{\"sky\": \"sunny\"}", toolCallID: "call_1")], tools: nil)
            let ids = prompt.tokens
            for tag in ["<|tool_call|>", "<|/tool_call|>"] {
                XCTAssertTrue(ids.contains(try XCTUnwrap(m.tokenizer.specialTokenID(tag))), tag)
            }
            XCTAssertEqual((o["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0 > ids.count, true,
                           "the server's prompt also carries the tool list")
        }
    }

    func testCallLookalikeTextStaysContent() async throws {
        let text = #"[{"name": "get_weather", "arguments": {"city": "Paris"}}]"#
        try await withServer("phi4mm-tiny", configure: { $0.forcedOutputs = [text] }) { client, _ in
            let o = try self.json(try await self.post(client, "/v1/chat/completions", ["messages": self.ask, "tools": Self.tools]))
            let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
            XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String, text)
            XCTAssertNil((choice["message"] as? [String: Any])?["tool_calls"])
            XCTAssertEqual(choice["finish_reason"] as? String, "stop")
        }
    }

    func testRequiredToolChoiceForcesAValidCall() async throws {
        // An enum keeps the random model's arguments short; the grammar does the rest.
        let tools: [[String: Any]] = [["type": "function", "function": ["name": "get_weather", "parameters": [
            "type": "object", "properties": ["city": ["type": "string", "enum": ["Paris", "Rome"]]], "required": ["city"],
            "additionalProperties": false]]]]
        try await withServer("phi4mm-tiny", configure: { $0.maxTokens = 200 }) { client, _ in
            for choiceValue: Any in ["required", ["type": "function", "function": ["name": "get_weather"]]] {
                let o = try self.json(try await self.post(client, "/v1/chat/completions",
                                                          ["messages": self.ask, "tools": tools, "tool_choice": choiceValue]))
                let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
                XCTAssertEqual(choice["finish_reason"] as? String, "tool_calls", "\(o)")
                let call = try XCTUnwrap(((choice["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first)
                let f = try XCTUnwrap(call["function"] as? [String: Any])
                XCTAssertEqual(f["name"] as? String, "get_weather")
                let args = try self.decode(try XCTUnwrap(f["arguments"] as? String))
                XCTAssertNotNil(args["city"] as? String, "the schema's required field is there")
            }
        }
    }

    func testResponseFormat() async throws {
        try await withServer("phi4mm-tiny", configure: { $0.maxTokens = 200 }) { client, _ in
            let schema: [String: Any] = ["type": "object", "properties": ["n": ["type": "integer"]], "required": ["n"],
                                         "additionalProperties": false]
            let o = try self.json(try await self.post(client, "/v1/chat/completions", ["messages": self.ask,
                "response_format": ["type": "json_schema", "json_schema": ["name": "n", "schema": schema]]]))
            let content = try XCTUnwrap((((o["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])?["content"] as? String)
            XCTAssertNotNil(try self.decode(content)["n"] as? Int, content)
            let bad: [String: Any] = ["type": "object", "properties": ["n": ["type": "string", "format": "made-up-format"]]]
            let e = try self.assertError(try await self.post(client, "/v1/chat/completions", ["messages": self.ask,
                "response_format": ["type": "json_schema", "json_schema": ["name": "n", "schema": bad]]]), 400, param: "response_format")
            XCTAssertTrue((e["message"] as? String ?? "").contains("format"), "\(e)")
        }
    }
}
