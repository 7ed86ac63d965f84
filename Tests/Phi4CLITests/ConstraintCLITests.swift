import Foundation
import XCTest

/// `phi4 run` with --json-schema / --json-object / --regex / --tools --tool-choice on the tiny model.
final class ConstraintCLITests: XCTestCase {
    func write(_ text: String, _ name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("phikit-\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testJSONSchemaOutputParsesAlsoInJSONMode() throws {
        let schema = try write(#"{"type":"object","properties":{"ok":{"type":"boolean"},"n":{"enum":[1,2]}},"required":["ok","n"],"additionalProperties":false}"#, "s.json")
        let r = try CLITests.run(["run", "--model", CLITests.tiny, "--json", "--json-schema", schema, "--temperature", "1", "--seed", "3", "Hi"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let text = try XCTUnwrap(obj["text"] as? String)
        let value = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
        XCTAssertEqual(Set(value.keys), ["ok", "n"])
        XCTAssertEqual(obj["finish_reason"] as? String, "stop")

        let plain = try CLITests.run(["run", "--model", CLITests.tiny, "--json-object", "--max-tokens", "50", "Hi"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.hasPrefix("{"), plain.stdout)
        let digits = try CLITests.run(["run", "--model", CLITests.tiny, "--regex", "[0-9]{4}", "Hi"])
        XCTAssertEqual(digits.stdout.trimmingCharacters(in: .whitespacesAndNewlines).count, 4, digits.stdout)
    }

    func testToolChoiceForcesADeclaredCall() throws {
        let tools = try write(#"[{"name":"w","parameters":{"c":{"type":"str","enum":["P","O"]}}}]"#, "tools.json")
        // --raw: the tools in the system turn would fill the tiny model's 64-token context.
        let r = try CLITests.run(["run", "--model", CLITests.tiny, "--raw", "--tools", tools, "--tool-choice", "w", "--json", "W"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let text = try XCTUnwrap(obj["text"] as? String)
        XCTAssertEqual(obj["finish_reason"] as? String, "stop")
        XCTAssertTrue(text.hasPrefix("<|tool_call|>[{\"name\":") && text.hasSuffix("<|/tool_call|>"), text)
        let body = String(text.dropFirst("<|tool_call|>".count).dropLast("<|/tool_call|>".count))
        let calls = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]], body)
        XCTAssertEqual(calls.count, 1)
        XCTAssertEqual(calls.first?["name"] as? String, "w")
        let args = try XCTUnwrap(calls.first?["arguments"] as? [String: String])
        XCTAssertTrue(["P", "O"].contains(args["c"] ?? ""), body)
    }

    func testBadConstraintIsAClearError() throws {
        let schema = try write(#"{"type":"object","properties":{"age":{"type":"integer","multipleOf":5}}}"#, "bad.json")
        let r = try CLITests.run(["run", "--model", CLITests.tiny, "--json-schema", schema, "Hi"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unsupported constraint feature 'multipleOf' at #/properties/age"), r.stderr)
        let both = try CLITests.run(["run", "--model", CLITests.tiny, "--json-object", "--regex", "a", "Hi"])
        XCTAssertNotEqual(both.status, 0)
        let noTools = try CLITests.run(["run", "--model", CLITests.tiny, "--tool-choice", "required", "Hi"])
        XCTAssertNotEqual(noTools.status, 0)
        XCTAssertTrue(noTools.stderr.contains("--tools"), noTools.stderr)
    }
}
