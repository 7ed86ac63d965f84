import Foundation
import XCTest

/// `phi4 run --tools`: a call the model makes (forced here with --tool-choice on the tiny random model) comes
/// back in `run --json` as `tool_calls`; plain `run` prints the raw text.
final class ToolCallCLITests: XCTestCase {
    func phi4(_ args: [String]) throws -> CLITests.Output { try CLITests.run(args) }

    func testForcedCallAppearsAsToolCalls() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tools-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        // The tiny model's context is 64 tokens: a short tool list, whose call has no arguments.
        try #"[{"name":"w"}]"#.write(to: file, atomically: true, encoding: .utf8)
        let args = ["run", "--model", CLITests.tiny, "--max-tokens", "40", "--tools", file.path, "--tool-choice", "w", "P"]
        let r = try phi4(args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let calls = try XCTUnwrap(obj["tool_calls"] as? [[String: Any]], r.stdout)
        XCTAssertEqual(calls.count, 1)
        XCTAssertEqual(calls.first?["name"] as? String, "w")
        let arguments = try XCTUnwrap(calls.first?["arguments"] as? [String: Any], r.stdout)
        XCTAssertTrue(arguments.isEmpty, r.stdout)
        // Plain run prints the call as the model wrote it.
        let plain = try phi4(args)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.hasPrefix("<|tool_call|>["), plain.stdout)
        XCTAssertTrue(plain.stdout.contains("<|/tool_call|>"), plain.stdout)
        // Without a call there is no tool_calls key.
        let free = try phi4(["run", "--model", CLITests.tiny, "--json", "--max-tokens", "2", "--tools", file.path, "P"])
        XCTAssertEqual(free.status, 0, free.stderr)
        let freeObj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(free.stdout.utf8)) as? [String: Any])
        XCTAssertNil(freeObj["tool_calls"])
    }
}
