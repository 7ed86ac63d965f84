import Foundation
import XCTest
@testable import PhiTokenizer

/// SentencePiece-style tokenizers (Phi-3 / Phi-3.5 / Llama-2 layout) against references written by
/// tools/tokenizer/make_spm_fixtures.py: HF `tokenizers` 0.23.3 for tokenizer.json, sentencepiece 0.2.3 for the
/// GGUF (llama.cpp SPM) vocabulary.
final class SentencePieceTests: XCTestCase {
    static let variants = ["phi3", "metaspace", "metaspace_split"]

    private func fixture(_ name: String) -> URL { Fixtures.url("spm").appendingPathComponent(name) }

    private func load(_ variant: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: try Data(contentsOf: fixture("\(variant).json")), tokenizerConfigJSON: nil)
    }

    private func rows(_ name: String) throws -> [[String: Any]] { try Fixtures.jsonl("spm/\(name)") }

    func testEncodeMatchesHF() throws {
        for variant in Self.variants {
            let tok = try load(variant)
            let rows = try rows("\(variant)_encode.jsonl")
            XCTAssertGreaterThan(rows.count, 700)
            var failures = 0, special = 0
            for row in rows {
                let text = row.string("text")
                let got = tok.encode(text)
                if got != row.ints("ids") {
                    failures += 1
                    if failures <= 5 { XCTFail("\(variant) '\(show(text))': \(got) != \(row.ints("ids"))") }
                }
                if row["special_ids"] != nil {
                    special += 1
                    XCTAssertEqual(tok.encode(text, parseSpecial: true), row.ints("special_ids"), "\(variant) special '\(show(text))'")
                }
            }
            XCTAssertEqual(failures, 0, variant)
            XCTAssertGreaterThan(special, 10)
        }
    }

    func testDecodeAndStreamingMatchHF() throws {
        for variant in Self.variants {
            let tok = try load(variant)
            let rows = try rows("\(variant)_decode.jsonl")
            XCTAssertEqual(rows.count, 250)
            for row in rows {
                let ids = row.ints("ids")
                for (skip, key) in [(false, "text"), (true, "text_skip")] {
                    let expected = row.string(key)
                    XCTAssertEqual(tok.decode(ids, skipSpecial: skip), expected, "\(variant) \(ids) skip=\(skip)")
                    var stream = tok.makeStreamingDecoder(skipSpecial: skip)
                    var text = ""
                    for id in ids { text += stream.append(id) }
                    text += stream.flush()
                    XCTAssertEqual(text, expected, "\(variant) streaming \(ids) skip=\(skip)")
                }
            }
        }
    }

    /// The round trip of the corpus: decode(encode(text)) is the text (the leading space the normalizer adds is
    /// stripped again); byte fallback covers every character. Text with a literal `▁` comes back with a space.
    func testRoundTrip() throws {
        let tok = try load("phi3")
        for row in try rows("phi3_encode.jsonl") where row["special_ids"] == nil {
            let text = row.string("text")
            if text.contains("\u{2581}") {
                XCTAssertEqual(tok.decode(tok.encode(text)), text.replacingOccurrences(of: "\u{2581}", with: " "))
                continue
            }
            XCTAssertEqual(tok.decode(tok.encode(text)), text, show(text))
        }
    }

    func testStreamingHoldsByteRunsAndStripsLeadingSpace() throws {
        let tok = try load("phi3")
        func id(_ s: String) throws -> Int { try XCTUnwrap(tok.bpe.tokenID(s), s) }
        let emoji = try [0xF0, 0x9F, 0x98, 0x80].map { try id(BPEModel.byteTokenName(UInt8($0))) }
        var stream = tok.makeStreamingDecoder()
        // "▁" alone as the first piece: its space is the stripped leading space.
        XCTAssertEqual(stream.append(try id("▁")), "")
        for b in emoji { XCTAssertEqual(stream.append(b), "", "a byte run is held until a non-byte token ends it") }
        XCTAssertEqual(stream.append(try id("▁")), "😀 ")
        for b in emoji.prefix(2) { XCTAssertEqual(stream.append(b), "") }
        XCTAssertEqual(stream.flush(), "\u{FFFD}\u{FFFD}", "an invalid run is one U+FFFD per byte token, as HF")
        // After flush the decoder starts over: the leading space is stripped again.
        XCTAssertEqual(stream.append(try id("▁")), "")
        XCTAssertEqual(stream.append(try id("▁")), " ")
    }

    func testGGUFVocabularyMatchesSentencePiece() throws {
        let data = try Data(contentsOf: fixture("gguf_vocab.json"))
        let vocab = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let tokens = try XCTUnwrap(vocab["tokens"] as? [String])
        let scores = try XCTUnwrap(vocab["scores"] as? [NSNumber]).map(\.floatValue)
        let types = try XCTUnwrap(vocab["token_type"] as? [NSNumber]).map(\.int32Value)
        let tok = try Tokenizer(sentencePieceVocab: tokens, scores: scores, tokenTypes: types, addSpacePrefix: true,
                                bosTokenID: 1, eosTokenID: 2, unknownTokenID: 0)
        XCTAssertEqual(tok.bosTokenID, 1)
        XCTAssertEqual(tok.eosTokenID, 2)
        let rows = try rows("gguf_encode.jsonl")
        XCTAssertGreaterThan(rows.count, 700)
        var failures = 0
        for row in rows {
            let text = row.string("text")
            let got = tok.encode(text)
            if got != row.ints("ids") {
                failures += 1
                if failures <= 5 { XCTFail("'\(show(text))': \(got) != \(row.ints("ids"))") }
            }
            XCTAssertEqual(tok.decode(got), text.replacingOccurrences(of: "\u{2581}", with: " "), show(text))
        }
        XCTAssertEqual(failures, 0)
        // Control tokens are special added tokens: matched only with parseSpecial, dropped by skipSpecial.
        XCTAssertEqual(tok.encode("<s>x", parseSpecial: true).first, 1)
        XCTAssertNotEqual(tok.encode("<s>x").first, 1)
        XCTAssertEqual(tok.decode([1] + tok.encode("Hello"), skipSpecial: true), "Hello")
    }

    /// llama.cpp's `default` pre-tokenizer (GGUF byte-level vocabularies without `tokenizer.ggml.pre`) against the
    /// same four regexes as HF `Split(Isolated)` steps.
    func testLlamaCppDefaultPreTokenizerMatchesHFSplits() throws {
        let pre = try PreTokenizer.named("default")
        let rows = try rows("default_pre.jsonl")
        XCTAssertGreaterThan(rows.count, 700)
        var failures = 0
        for row in rows {
            let text = row.string("text")
            let expected = (row["pieces"] as? [String]) ?? []
            if pre.split(text) != expected {
                failures += 1
                if failures <= 5 { XCTFail("'\(show(text))': \(pre.split(text).map(show)) != \(expected.map(show))") }
            }
        }
        XCTAssertEqual(failures, 0)
    }

    func testUnsupportedSentencePieceComponentsAreNamed() {
        func load(_ json: String) throws -> Tokenizer { try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: nil) }
        let model = #""model":{"type":"BPE","vocab":{"a":0,"▁":1},"merges":[],"byte_fallback":true}"#
        let dec = #""decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"#
        XCTAssertNoThrow(try load("{\(model),\(dec)}"))
        let cases: [(String, String)] = [
            (#"{\#(model),"normalizer":{"type":"NFKC"},\#(dec)}"#, "NFKC"),
            (#"{\#(model),"normalizer":{"type":"Replace","pattern":{"Regex":" +"},"content":"▁"},\#(dec)}"#, "String pattern"),
            (#"{\#(model),"decoder":{"type":"Sequence","decoders":[{"type":"Strip","content":" ","start":1,"stop":0}]}}"#, "Strip"),
            (#"{\#(model),"decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Strip","content":" ","start":0,"stop":1}]}}"#, "Strip"),
            (#"{\#(model),"decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Replace","pattern":{"String":"▁"},"content":" "}]}}"#, "Replace"),
            (#"{\#(model),"decoder":{"type":"CTC"}}"#, "CTC"),
            (#"{\#(model),"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Metaspace"},{"type":"Digits"}]},\#(dec)}"#, "Metaspace"),
            (#"{\#(model),"pre_tokenizer":{"type":"Metaspace","prepend_scheme":"sometimes"},\#(dec)}"#, "sometimes"),
            (#"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"byte_fallback":true},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"}}"#, "byte_fallback"),
        ]
        for (json, needle) in cases {
            XCTAssertThrowsError(try load(json), needle) { error in
                XCTAssertTrue("\(error)".contains(needle), "'\(error)' should mention '\(needle)'")
            }
        }
    }
}
