import Foundation
import XCTest
@testable import PhiTokenizer

/// Optional: Mistral-7B-v0.1's published SentencePiece vocabulary (PyPI mistral-common==1.13.1), written out by
/// tools/tokenizer/check_published_spm.py; set PHIKIT_PUBLISHED_SPM to its output folder.
final class PublishedSentencePieceTests: XCTestCase {
    func testMistralVocabularyMatchesSentencePieceAndHF() throws {
        guard let dir = ProcessInfo.processInfo.environment["PHIKIT_PUBLISHED_SPM"] else {
            throw XCTSkip("set PHIKIT_PUBLISHED_SPM to the output folder of tools/tokenizer/check_published_spm.py")
        }
        let folder = URL(fileURLWithPath: dir)
        let vocab = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("gguf_vocab.json")))
            as? [String: Any])
        let gguf = try Tokenizer(sentencePieceVocab: try XCTUnwrap(vocab["tokens"] as? [String]),
                                 scores: try XCTUnwrap(vocab["scores"] as? [NSNumber]).map(\.floatValue),
                                 tokenTypes: try XCTUnwrap(vocab["token_type"] as? [NSNumber]).map(\.int32Value),
                                 addSpacePrefix: (vocab["add_space_prefix"] as? Bool) ?? true)
        let json = try Tokenizer(tokenizerJSON: Data(contentsOf: folder.appendingPathComponent("tokenizer.json")),
                                 tokenizerConfigJSON: nil)
        let rows = try Data(contentsOf: folder.appendingPathComponent("encode.jsonl")).split(separator: UInt8(ascii: "\n"))
        XCTAssertGreaterThan(rows.count, 2000)
        var failures = 0
        for line in rows {
            let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            let text = row.string("text")
            let okGGUF = gguf.encode(text) == row.ints("sp_ids"), okJSON = json.encode(text) == row.ints("hf_ids")
            if !okGGUF || !okJSON {
                failures += 1
                if failures <= 5 { XCTFail("'\(show(text))': gguf \(okGGUF), tokenizer.json \(okJSON)") }
            }
            XCTAssertEqual(json.decode(json.encode(text)), text.replacingOccurrences(of: "\u{2581}", with: " "))
        }
        XCTAssertEqual(failures, 0)
    }
}
