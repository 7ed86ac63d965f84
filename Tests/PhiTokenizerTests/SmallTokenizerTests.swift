import Foundation
import XCTest
@testable import PhiTokenizer

/// Small byte-level BPE tokenizers trained by the fixture script with different pre-tokenizers
/// (GPT-2 ByteLevel with and without prefix space, SmolLM Digits+ByteLevel, Llama-3 Split, a regex that needs the
/// NSRegularExpression fallback), plus a hand-written one.
final class SmallTokenizerTests: XCTestCase {
    func testTrainedSmallTokenizersMatchHF() throws {
        for kind in ["gpt2", "gpt2_prefix", "smollm", "llama3", "fallback"] {
            let json = try Data(contentsOf: Fixtures.url("small/\(kind).json"))
            let tok = try Tokenizer(tokenizerJSON: json, tokenizerConfigJSON: nil)
            XCTAssertLessThan(tok.vocabularySize, 1000)
            var checked = 0
            for row in try Fixtures.jsonl("small/\(kind).jsonl") {
                if let text = row["text"] as? String {
                    if row["ids"] != nil {
                        XCTAssertEqual(tok.encode(text, parseSpecial: true), row.ints("ids"), "\(kind): '\(show(text))'")
                        if !["<s>", "</s>", "[", "<|im_end|>"].contains(where: { text.contains($0) }) {
                            XCTAssertEqual(tok.encode(text), row.ints("ids"), "\(kind) plain: '\(show(text))'")
                        }
                    } else {
                        XCTAssertEqual(tok.encode(text, parseSpecial: true), row.ints("special_ids"),
                                       "\(kind) special: '\(show(text))'")
                    }
                } else {
                    let ids = row.ints("ids")
                    XCTAssertEqual(tok.decode(ids), row.string("decoded"), "\(kind) decode \(ids)")
                    XCTAssertEqual(tok.decode(ids, skipSpecial: true), row.string("decoded_skip"), "\(kind) skip \(ids)")
                }
                checked += 1
            }
            XCTAssertGreaterThan(checked, 300, kind)
        }
    }

    /// A hand-written tokenizer: all 256 byte symbols, a few merges in both JSON spellings, one added token.
    static func makeSynthetic(ignoreMerges: Bool = false) throws -> Tokenizer {
        var vocab: [String: Int] = [:]
        for b in 0..<256 { vocab[ByteLevel.string(for: [UInt8(b)])] = b }
        let extra = ["he", "ll", "hell", "hello", "Ġw", "Ġwo", "or", "Ġwor", "Ġworld", "lo"]
        for (i, t) in extra.enumerated() { vocab[t] = 256 + i }
        let object: [String: Any] = [
            "version": "1.0",
            "added_tokens": [["id": 300, "content": "<eot>", "special": true, "lstrip": false, "rstrip": false,
                              "single_word": false, "normalized": false]],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "ignore_merges": ignoreMerges,
                      "merges": ["h e", ["l", "l"], "he ll", "hell o", "Ġ w", "Ġw o", "o r", "Ġwo r", "l o"] as [Any]],
        ]
        let data = try JSONSerialization.data(withJSONObject: object)
        return try Tokenizer(tokenizerJSON: data, tokenizerConfigJSON: nil)
    }

    func testSyntheticTokenizer() throws {
        let tok = try Self.makeSynthetic()
        XCTAssertEqual(tok.vocabularySize, 301)
        // "hello": h e -> he (0), l l -> ll (1), he ll -> hell (2), hell o -> hello (3).
        XCTAssertEqual(tok.encode("hello"), [259])
        // " world": Ġ w (4), Ġw o (5), Ġwo r (7) -> Ġwor; "l d" has no merge; byte ids equal byte values here.
        XCTAssertEqual(tok.encode(" world"), [263, 108, 100])  // Ġwor l d
        XCTAssertEqual(tok.decode([263, 108, 100]), " world")
        XCTAssertEqual(tok.encode("hello<eot>"), tok.encode("hello") + tok.encode("<eot>"))
        XCTAssertEqual(tok.encode("hello<eot>", parseSpecial: true), [259, 300])
        XCTAssertEqual(tok.decode([259, 300]), "hello<eot>")
        XCTAssertEqual(tok.decode([259, 300], skipSpecial: true), "hello")
        // "Ġworld" is in the vocab but never reachable by merges: only ignore_merges emits it whole.
        XCTAssertNotEqual(tok.encode(" world"), [264])
        XCTAssertEqual(try Self.makeSynthetic(ignoreMerges: true).encode(" world"), [264])
        // Leftmost on ties and merge order: "lo" (rank 8) loses to "ll" (rank 1) in "llo".
        XCTAssertEqual(tok.encode("llo"), [257, 111])
    }

    func testGGUFStyleInitializer() throws {
        let phi = try Fixtures.phiTokenizer()
        // Rebuild a small GGUF-like vocabulary from the synthetic tokenizer's pieces.
        var tokens = (0..<256).map { ByteLevel.string(for: [UInt8($0)]) }
        tokens += ["he", "ll", "hell", "hello", "<|end|>", "<|tool|>", "<pad>"]
        var types = [Int32](repeating: 1, count: tokens.count)
        types[260] = 3
        types[261] = 4
        types[262] = 5
        let tok = try Tokenizer(vocab: tokens, merges: [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o")],
                                tokenTypes: types, preTokenizer: try .named("gpt-4o"), ignoreMerges: true,
                                rstripTokens: PhiChatFormat.phi4RstripTokens, bosTokenID: nil, eosTokenID: 260)
        XCTAssertEqual(tok.encode("hello"), [259])
        XCTAssertEqual(tok.encode("hello<|end|>\n hello", parseSpecial: true), [259, 260, 259])
        XCTAssertTrue(tok.isSpecial(260))
        XCTAssertFalse(tok.isSpecial(261))
        XCTAssertEqual(tok.eosTokenID, 260)
        XCTAssertNil(tok.tokenString(262))
        XCTAssertEqual(tok.decode([262, 259]), "hello")
        XCTAssertThrowsError(try PreTokenizer.named("bogus"))
        for name in ["gpt-4o", "llama-bpe", "smollm", "gpt2"] { XCTAssertNoThrow(try PreTokenizer.named(name)) }
        XCTAssertEqual(try PreTokenizer.named("smollm").split("abc 1234"), ["abc", " ", "1", "2", "3", "4"])
        _ = phi
    }
}
