import Foundation
import PhiWeights
import XCTest
import PhiTestSupport

/// Runs the built `phi4` executable the way a user (or an external check) does.
final class CLITests: XCTestCase {
    static let fixtures = TestFixtures.models
    var tiny: String { Self.tiny }
    static var tiny: String { fixtures.appendingPathComponent("phi4mini-tiny").path }

    struct Output { let status: Int32; let stdout: String; let stderr: String }

    func phi4(_ args: [String], stdin: String? = nil) throws -> Output { try Self.run(args, stdin: stdin) }

    /// Runs the built binary with `args`, feeding `stdin`; collects both output streams.
    static func run(_ args: [String], stdin: String? = nil) throws -> Output {
        let exe = Self.executable()
        guard FileManager.default.isExecutableFile(atPath: exe.path) else { throw XCTSkip("phi4 binary not found at \(exe.path)") }
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let stdin { inp.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func executable() -> URL {
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") {
            return b.bundleURL.deletingLastPathComponent().appendingPathComponent("phi4")
        }
        return Bundle.main.bundleURL.appendingPathComponent("phi4")
    }

    func reference() throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("phi4mini-tiny/reference.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testRunJSONShape() throws {
        let r = try phi4(["run", "--model", tiny, "--json", "--max-tokens", "5", "--temperature", "0", "Hello there"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let prompt = try XCTUnwrap(obj["prompt_tokens"] as? [Int])
        let gen = try XCTUnwrap(obj["generated_tokens"] as? [Int])
        XCTAssertFalse(prompt.isEmpty)
        XCTAssertTrue((1...5).contains(gen.count))
        XCTAssertNotNil(obj["text"] as? String)
        XCTAssertNotNil(obj["prefill_tokens_per_second"] as? Double)
        XCTAssertNotNil(obj["decode_tokens_per_second"] as? Double)
        // Chat format: <|user|> … <|end|><|assistant|>
        let special = try XCTUnwrap(try reference()["special_ids"] as? [String: Int])
        XCTAssertEqual(prompt.first, special["<|user|>"])
        XCTAssertEqual(Array(prompt.suffix(2)), [special["<|end|>"]!, special["<|assistant|>"]!])
    }

    /// `bench --bandwidth` measures the read bandwidth (the bound on generation) alone or with a model, where it
    /// also reports the weight bytes one token reads; without either it is a usage error.
    func testBenchBandwidth() throws {
        let alone = try phi4(["bench", "--bandwidth", "-t", "1", "--json"])
        XCTAssertEqual(alone.status, 0, alone.stderr)
        let a = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(alone.stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(a["read_bandwidth_gbs"] as? Double), 0.1)
        let with = try phi4(["bench", "--model", tiny, "--bandwidth", "-p", "4", "-n", "2", "-r", "1", "-t", "1", "--json"])
        XCTAssertEqual(with.status, 0, with.stderr)
        let w = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(with.stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(w["read_bandwidth_gbs"] as? Double), 0.1)
        // The tiny fixture: f32 matrices; the weight bytes are at least the output head's.
        let bytes = try XCTUnwrap(w["weight_bytes_per_token"] as? Int)
        let cfg = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("phi4mini-tiny/config.json"))) as? [String: Any])
        let vocab = try XCTUnwrap(cfg["vocab_size"] as? Int), hidden = try XCTUnwrap(cfg["hidden_size"] as? Int)
        XCTAssertGreaterThan(bytes, vocab * hidden * 4)
        let none = try phi4(["bench"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("--model"), none.stderr)
    }

    func testToolsGoInTheSystemTurn() throws {
        let special = try XCTUnwrap(try reference()["special_ids"] as? [String: Int])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tools-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"[{"name": "w"}]"#
            .write(to: file, atomically: true, encoding: .utf8)
        let r = try phi4(["run", "--model", tiny, "--json", "--max-tokens", "1", "--tools", file.path, "Paris?"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let ids = try XCTUnwrap(obj["prompt_tokens"] as? [Int])
        XCTAssertEqual(ids.first, special["<|system|>"])
        let open = try XCTUnwrap(ids.firstIndex(of: special["<|tool|>"]!))
        let close = try XCTUnwrap(ids.firstIndex(of: special["<|/tool|>"]!))
        XCTAssertLessThan(open, close)
        XCTAssertLessThan(close, try XCTUnwrap(ids.firstIndex(of: special["<|user|>"]!)))

        try "not json".write(to: file, atomically: true, encoding: .utf8)
        try assertCleanFailure(["run", "--model", tiny, "--tools", file.path, "hi"], mentions: "JSON list")
    }

    func testRawPromptIsSentAsWritten() throws {
        let ref = try reference()
        let short = try XCTUnwrap((ref["cases"] as? [String: Any])?["short"] as? [String: Any])
        let r = try phi4(["run", "--model", tiny, "--raw", "--json", "--max-tokens", "1", try XCTUnwrap(short["text"] as? String)])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["prompt_tokens"] as? [Int], short["input_ids"] as? [Int])
        XCTAssertEqual((obj["generated_tokens"] as? [Int])?.first, (short["argmax_per_position"] as? [Int])?.last)
    }

    func testLogitsNpyMatchesReference() throws {
        let ref = try reference()
        let short = try XCTUnwrap((ref["cases"] as? [String: Any])?["short"] as? [String: Any])
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("phi4-logits-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try phi4(["logits", "--model", tiny, "--raw", "--out", out.path, try XCTUnwrap(short["text"] as? String)])
        XCTAssertEqual(r.status, 0, r.stderr)
        let npy = try NpyReader.read(path: out.path)
        let (shape, values) = (npy.shape, npy.values)
        let T = (short["input_ids"] as? [Int])?.count ?? 0
        XCTAssertEqual(shape, [T, 384])
        let store = try WeightStore(files: [Self.fixtures.appendingPathComponent("phi4mini-tiny/reference.safetensors")])
        let expected = try store.tensor("short.logits").toFloatArray()
        var worst: Float = 0
        for (a, b) in zip(values, expected) { worst = max(worst, abs(a - b)) }
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }

    func testTokenizeModes() throws {
        let special = try XCTUnwrap(try reference()["special_ids"] as? [String: Int])
        let plain = try phi4(["tokenize", "--model", tiny, "--json", "<|user|>hi"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let plainIDs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [Int])
        XCTAssertFalse(plainIDs.contains(special["<|user|>"]!))
        let parsed = try phi4(["tokenize", "--model", tiny, "--parse-special", "--json", "<|user|>hi"])
        let parsedIDs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [Int])
        XCTAssertEqual(parsedIDs.first, special["<|user|>"])

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try "Hello world\n\nsecond line\n".write(to: file, atomically: true, encoding: .utf8)
        let jl = try phi4(["tokenize", "--model", tiny, "--jsonl", file.path])
        XCTAssertEqual(jl.status, 0, jl.stderr)
        let lines = jl.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[1], "[]")
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [Int])
        let tc = try XCTUnwrap((try reference()["tokenizer_cases"] as? [[String: Any]])?.first)
        XCTAssertEqual(tc["text"] as? String, "Hello world")
        XCTAssertEqual(first, tc["ids"] as? [Int])
    }

    func testTokenizeWorksWithOnlyTokenizerFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: URL(fileURLWithPath: tiny).appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        let r = try phi4(["tokenize", "--model", dir.path, "--json", "Hello world"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testChatIsMultiTurnWithResetAndExit() throws {
        let r = try phi4(["chat", "--model", tiny, "--max-tokens", "3"], stdin: "Hello\nAnd more\n/reset\nAgain\n/exit\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        // A prompt per turn, /reset and /exit (generated text may contain "> " too, hence ≥).
        XCTAssertGreaterThanOrEqual(r.stdout.components(separatedBy: "> ").count - 1, 4, r.stdout)
        XCTAssertTrue(r.stdout.hasPrefix("> "))
        XCTAssertTrue(r.stderr.contains("cleared"))
    }

    // MARK: bad input: one clear error, non-zero exit, no crash

    func assertCleanFailure(_ args: [String], mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try phi4(args)
        XCTAssertEqual(r.status, 1, "exit status; stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(mentions), "stderr should mention \(mentions): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), file: file, line: line)
    }

    func copyTiny() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tiny), to: dir)
        return dir
    }

    func testMissingModelFolder() throws {
        try assertCleanFailure(["run", "--model", "/nonexistent/model", "hi"], mentions: "/nonexistent/model")
    }

    func testTruncatedShard() throws {
        let dir = try copyTiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = dir.appendingPathComponent("model-00002-of-00002.safetensors")
        let data = try Data(contentsOf: shard)
        try data.prefix(data.count / 2).write(to: shard)
        try assertCleanFailure(["run", "--model", dir.path, "hi"], mentions: "model-00002-of-00002.safetensors")
    }

    func testMissingShard() throws {
        let dir = try copyTiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model-00001-of-00002.safetensors"))
        try assertCleanFailure(["run", "--model", dir.path, "hi"], mentions: "model-00001-of-00002.safetensors")
    }

    func testMalformedConfig() throws {
        let dir = try copyTiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\"model_type\": \"phi3\", ".utf8).write(to: dir.appendingPathComponent("config.json"))
        try assertCleanFailure(["run", "--model", dir.path, "hi"], mentions: "config.json")
    }

    func testUnknownArchitecture() throws {
        let dir = try copyTiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\"model_type\": \"mamba\", \"architectures\": [\"MambaForCausalLM\"]}".utf8).write(to: dir.appendingPathComponent("config.json"))
        try assertCleanFailure(["run", "--model", dir.path, "hi"], mentions: "MambaForCausalLM")
    }

    func testWrongShapeInConfig() throws {
        let dir = try copyTiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        var cfg = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        cfg["intermediate_size"] = 256
        try JSONSerialization.data(withJSONObject: cfg).write(to: url)
        try assertCleanFailure(["run", "--model", dir.path, "hi"], mentions: "gate_up_proj")
    }

    func testMalformedTokenizer() throws {
        let dir = try copyTiny()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\"model\": [".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        try assertCleanFailure(["run", "--model", dir.path, "hi"], mentions: "tokenizer.json")
    }

    func testPromptOverContextLimit() throws {
        let long = String(repeating: "word ", count: 200)
        try assertCleanFailure(["run", "--model", tiny, long], mentions: "context")
    }

    func testInvalidSamplingOption() throws {
        let r = try phi4(["run", "--model", tiny, "--top-p", "0", "hi"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("top-p"), r.stderr)
    }
}
