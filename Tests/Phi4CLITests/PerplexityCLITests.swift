import Foundation
import PhiWeights
import XCTest

/// `phi4 perplexity`, checked against numbers computed here from `phi4 logits` and `phi4 tokenize`.
final class PerplexityCLITests: XCTestCase {
    var tiny: String { CLITests.tiny }
    let text = "Once upon a time, a small robot lived in a quiet town by the sea. Every morning it walked to the harbour."

    func phi4(_ args: [String]) throws -> CLITests.Output { try CLITests.run(args) }

    func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ppl-\(UUID().uuidString)-\(name)")
    }

    func writeText(_ s: String) throws -> URL {
        let url = temp("text.txt")
        try s.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func json(_ r: CLITests.Output, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], file: file, line: line)
    }

    func tokenIDs(_ s: String) throws -> [Int] {
        let r = try phi4(["tokenize", "--model", tiny, "--json", s])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Int])
    }

    /// exp(mean NLL) of the second half of `ids`, and its ± estimate, from the full [T, vocab] logits that
    /// `phi4 logits --raw PROMPT` writes (PROMPT must tokenize to `ids`).
    func expectedPerplexity(model: String, prompt: String, ids: [Int]) throws -> (ppl: Double, meanNLL: Double, error: Double) {
        let T = ids.count
        let npy = temp("logits.npy")
        defer { try? FileManager.default.removeItem(at: npy) }
        let lr = try phi4(["logits", "--model", model, "--raw", "--out", npy.path, prompt])
        XCTAssertEqual(lr.status, 0, lr.stderr)
        let logits = try NpyReader.read(path: npy.path)
        let V = 384
        XCTAssertEqual(logits.shape, [T, V])
        var nlls: [Double] = []
        for j in (T / 2)..<(T - 1) {
            let row = logits.values[(j * V)..<((j + 1) * V)].map(Double.init)
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            nlls.append(lse - row[ids[j + 1]])
        }
        let mean = nlls.reduce(0, +) / Double(nlls.count)
        let variance = nlls.reduce(0) { $0 + $1 * $1 } / Double(nlls.count) - mean * mean
        return (exp(mean), mean, exp(mean) * (variance / Double(nlls.count - 1)).squareRoot())
    }

    /// One window covering the whole text: its perplexity is exp(mean NLL) of the second half, computed here
    /// from the full [T, vocab] logits `phi4 logits` writes.
    func testPerplexityEqualsExpMeanNLLFromFullLogits() throws {
        let ids = try tokenIDs(text)
        let T = ids.count
        XCTAssertTrue((8...64).contains(T), "\(T) tokens")
        let expected = try expectedPerplexity(model: tiny, prompt: text, ids: ids)

        let file = try writeText(text)
        let obj = try json(try phi4(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "\(T)", "--json"]))
        XCTAssertEqual(obj["chunks"] as? Int, 1)
        XCTAssertEqual(obj["text_tokens"] as? Int, T)
        XCTAssertEqual(obj["scored_tokens"] as? Int, T - T / 2 - 1)
        let ppl = try XCTUnwrap(obj["perplexity"] as? Double)
        XCTAssertEqual(ppl, expected.ppl, accuracy: 1e-6 * expected.ppl)
        XCTAssertEqual(try XCTUnwrap(obj["mean_nll"] as? Double), expected.meanNLL, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(obj["perplexity_error"] as? Double), expected.error, accuracy: 1e-6 * expected.error + 1e-12)
        XCTAssertNil(obj["kl_divergence"])
        XCTAssertGreaterThan(ppl, 1)
    }

    /// A tokenizer that adds BOS (tokenizer_config add_bos_token) gets it before the text, as llama.cpp does.
    func testBOSWhenTheTokenizerAddsIt() throws {
        let dir = temp("bos")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tiny), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tokenizer_config.json")
        var cfg = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        cfg["add_bos_token"] = true
        try JSONSerialization.data(withJSONObject: cfg).write(to: url)
        let bos = try XCTUnwrap(cfg["bos_token"] as? String)
        let r = try phi4(["tokenize", "--model", dir.path, "--parse-special", "--json", bos])
        let bosID = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Int])?.first)
        let ids = [bosID] + (try tokenIDs(text))
        let expected = try expectedPerplexity(model: dir.path, prompt: bos + text, ids: ids)
        let file = try writeText(text)
        let obj = try json(try phi4(["perplexity", "--model", dir.path, "--file", file.path, "--ctx", "\(ids.count)", "--json"]))
        XCTAssertEqual(obj["text_tokens"] as? Int, ids.count)
        XCTAssertEqual(try XCTUnwrap(obj["perplexity"] as? Double), expected.ppl, accuracy: 1e-6 * expected.ppl)
    }

    /// Windows are non-overlapping and whole; --chunks limits them; text output has the final line.
    func testWindowsAndChunkLimit() throws {
        let long = Array(repeating: text, count: 4).joined(separator: " ")
        let T = try tokenIDs(long).count
        let file = try writeText(long)
        let all = try json(try phi4(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "16", "--json"]))
        XCTAssertEqual(all["chunks"] as? Int, T / 16)
        XCTAssertEqual(all["available_chunks"] as? Int, T / 16)
        XCTAssertEqual(all["scored_tokens"] as? Int, (T / 16) * 7)
        XCTAssertEqual((all["chunk_perplexities"] as? [Double])?.count, T / 16)
        let two = try json(try phi4(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "16", "--chunks", "2", "--json"]))
        XCTAssertEqual(two["chunks"] as? Int, 2)
        XCTAssertEqual(two["scored_tokens"] as? Int, 14)
        // The first two windows are the same in both runs.
        XCTAssertEqual((two["chunk_perplexities"] as? [Double])?.last, (all["chunk_perplexities"] as? [Double])?[1])

        let plain = try phi4(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "16", "--chunks", "2"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.contains("PPL = "), plain.stdout)
        XCTAssertTrue(plain.stderr.contains("chunk 2/2"), plain.stderr)
    }

    func testModelAgainstItselfHasZeroDivergence() throws {
        let file = try writeText(text)
        let obj = try json(try phi4(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "16", "--compare", tiny, "--json"]))
        let kl = try XCTUnwrap(obj["kl_divergence"] as? [String: Any])
        XCTAssertEqual(kl["mean"] as? Double, 0)
        XCTAssertEqual(kl["max"] as? Double, 0)
        XCTAssertEqual(obj["top1_agreement"] as? Double, 1)
        let ref = try XCTUnwrap(obj["reference"] as? [String: Any])
        XCTAssertEqual(ref["perplexity"] as? Double, obj["perplexity"] as? Double)
    }

    func testQuantizedModelDivergesFromF32() throws {
        let long = Array(repeating: text, count: 4).joined(separator: " ")
        let file = try writeText(long)
        let obj = try json(try phi4(["perplexity", "--model", tiny, "--quantize", "q4", "--file", file.path, "--ctx", "32",
                                     "--compare", tiny, "--compare-quantize", "f32", "--json"]))
        let kl = try XCTUnwrap(obj["kl_divergence"] as? [String: Any])
        let mean = try XCTUnwrap(kl["mean"] as? Double)
        XCTAssertGreaterThan(mean, 1e-4)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(kl["max"] as? Double), try XCTUnwrap(kl["p99"] as? Double))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(kl["p99"] as? Double), try XCTUnwrap(kl["median"] as? Double))
        let top1 = try XCTUnwrap(obj["top1_agreement"] as? Double)
        XCTAssertTrue((0...1).contains(top1))
        let ref = try XCTUnwrap(obj["reference"] as? [String: Any])
        XCTAssertNotEqual(ref["perplexity"] as? Double, obj["perplexity"] as? Double)
        // Q8_0 stays closer to f32 than Q4_0.
        let q8 = try json(try phi4(["perplexity", "--model", tiny, "--quantize", "q8", "--file", file.path, "--ctx", "32",
                                    "--compare", tiny, "--json"]))
        let q8mean = try XCTUnwrap((q8["kl_divergence"] as? [String: Any])?["mean"] as? Double)
        XCTAssertGreaterThan(q8mean, 0)
        XCTAssertLessThan(q8mean, mean)
    }

    // MARK: bad input

    func assertCleanFailure(_ args: [String], mentions: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try phi4(args)
        XCTAssertNotEqual(r.status, 0, "exit status; stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(mentions), "stderr should mention \(mentions): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), file: file, line: line)
    }

    func testMissingFile() throws {
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", "/nonexistent/text.txt"], mentions: "/nonexistent/text.txt")
    }

    func testTextShorterThanOneWindow() throws {
        let file = try writeText("Too short.")
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "32"], mentions: "fewer than one window")
    }

    func testContextLargerThanTheModels() throws {
        let file = try writeText(text)
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "128"], mentions: "context")
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "2"], mentions: "too small")
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", file.path, "--chunks", "0"], mentions: "--chunks")
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", file.path, "--compare-quantize", "f32"], mentions: "--compare")
    }

    func testQuantizeCommandPointsGGUFToLoadTimeQuantization() throws {
        try assertCleanFailure(["quantize", "--model", "/tmp/some-model.gguf", "--type", "q4", "--out", "/tmp/unused"],
                               mentions: "--quantize q4")
    }

    /// A copy of the tiny model whose vocabulary is padded to 448 rows (the tokenizer is unchanged).
    func testVocabularyMismatch() throws {
        let dir = temp("wide-vocab")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tiny), to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let configURL = dir.appendingPathComponent("config.json")
        var cfg = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        cfg["vocab_size"] = 448
        try JSONSerialization.data(withJSONObject: cfg).write(to: configURL)
        let shard = dir.appendingPathComponent("model-00001-of-00002.safetensors")
        let store = try WeightStore(files: [shard])
        var items: [String: SafetensorsWriter.Item] = [:]
        for name in store.names {
            let t = try store.tensor(name)
            XCTAssertEqual(t.dtype, .f32)
            var values = t.toFloatArray(), shape = t.shape
            if name == "model.embed_tokens.weight" {
                values += [Float](repeating: 0.01, count: (448 - shape[0]) * shape[1])
                shape[0] = 448
            }
            items[name] = .f32(shape: shape, values: values)
        }
        try SafetensorsWriter.write(items, to: shard)
        let file = try writeText(text)
        // The padded model itself loads and runs.
        let own = try phi4(["perplexity", "--model", dir.path, "--file", file.path, "--ctx", "16"])
        XCTAssertEqual(own.status, 0, own.stderr)
        try assertCleanFailure(["perplexity", "--model", tiny, "--file", file.path, "--ctx", "16", "--compare", dir.path],
                               mentions: "different vocabularies")
    }
}
