import Foundation
import PhiWeights
import XCTest

/// `phi4 tokenize` takes every model form: a folder, a .gguf file (its own vocabulary) or a hub id.
final class TokenizeModelFormsTests: XCTestCase {
    /// A GGUF holding only the tiny fixture's vocabulary (gpt2 model, gpt-4o pre-tokenizer), no tensors.
    func writeVocabularyGGUF(to url: URL) throws {
        let folder = URL(fileURLWithPath: CLITests.tiny)
        let tj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("tokenizer.json"))) as? [String: Any])
        let model = try XCTUnwrap(tj["model"] as? [String: Any])
        let vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
        let added = try XCTUnwrap(tj["added_tokens"] as? [[String: Any]])
        let count = (added.compactMap { $0["id"] as? Int } + vocab.values).max().map { $0 + 1 } ?? 0
        var tokens = [String](repeating: "", count: count)
        var types = [GGUFValue](repeating: .int32(1), count: count)
        for (s, id) in vocab { tokens[id] = s }
        for a in added {
            guard let id = a["id"] as? Int, let content = a["content"] as? String else { continue }
            tokens[id] = content
            types[id] = .int32((a["special"] as? Bool) == true ? 3 : 4)
        }
        let merges = (model["merges"] as? [[String]])?.map { $0.joined(separator: " ") } ?? (model["merges"] as? [String] ?? [])
        var w = GGUFWriter()
        w.set("general.architecture", .string("phi3"))
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("gpt-4o"))
        w.set("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) }))
        w.set("tokenizer.ggml.token_type", .array(.int32, types))
        w.set("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))
        try w.write(to: url)
    }

    func testTokenizeReadsTheGGUFVocabulary() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-vocab.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try writeVocabularyGGUF(to: url)
        let text = "Hello world! <|user|>The year 2024."
        for extra in [[], ["--parse-special"]] {
            let fromFolder = try CLITests.run(["tokenize", "--model", CLITests.tiny, "--json"] + extra + [text])
            let fromFile = try CLITests.run(["tokenize", "--model", url.path, "--json"] + extra + [text])
            XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
            XCTAssertEqual(fromFile.stdout, fromFolder.stdout)
            XCTAssertTrue(fromFile.stdout.hasPrefix("["), fromFile.stdout)
        }
    }

    func testTokenizeErrorsAreClear() throws {
        let missing = try CLITests.run(["tokenize", "--model", "/nonexistent/model.gguf", "hi"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/model.gguf"), missing.stderr)
        let notGGUF = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: notGGUF) }
        try Data("x".utf8).write(to: notGGUF)
        let wrong = try CLITests.run(["tokenize", "--model", notGGUF.path, "hi"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("neither a model folder"), wrong.stderr)
    }
}
