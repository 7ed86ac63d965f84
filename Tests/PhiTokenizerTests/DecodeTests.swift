import Foundation
import XCTest
@testable import PhiTokenizer

final class DecodeTests: XCTestCase {
    func testDecodeMatchesHF() throws {
        let tok = try Fixtures.phiTokenizer()
        for row in try Fixtures.jsonl("decode.jsonl") {
            let ids = row.ints("ids")
            XCTAssertEqual(tok.decode(ids), row.string("text"), "\(ids)")
            XCTAssertEqual(tok.decode(ids, skipSpecial: true), row.string("text_skip"), "\(ids)")
        }
    }

    func testRoundTripCorpus() throws {
        let tok = try Fixtures.phiTokenizer()
        for row in try Fixtures.jsonl("encode_plain.jsonl") {
            XCTAssertEqual(tok.decode(row.ints("ids")), row.string("text"))
        }
    }

    func testUnusedIdsDecodeToNothing() throws {
        let tok = try Fixtures.phiTokenizer()
        XCTAssertEqual(tok.decode([199_998, 200_000, 200_029, 200_063, 300_000, -1]), "")
        XCTAssertEqual(tok.decode([200_020]), "<|end|>")
        XCTAssertEqual(tok.decode([200_020], skipSpecial: true), "")
        XCTAssertEqual(tok.decode([200_025], skipSpecial: true), "<|tool_call|>")  // special: false survives
    }

    func testStreamingNeverEmitsBrokenUTF8() throws {
        let tok = try Fixtures.phiTokenizer()
        var texts = ["😀👨‍👩‍👧‍👦 字 é 🇯🇵 नमस्ते 你好，世界 🏳️‍🌈<|end|>", "ascii only", "\u{85}\u{a0}x"]
        for row in try Fixtures.jsonl("encode_plain.jsonl").prefix(300) { texts.append(row.string("text")) }
        for text in texts {
            for skip in [false, true] {
                let ids = tok.encode(text, parseSpecial: true)
                var stream = tok.makeStreamingDecoder(skipSpecial: skip)
                var joined = ""
                for id in ids {
                    let chunk = stream.append(id)
                    XCTAssertFalse(chunk.unicodeScalars.contains("\u{FFFD}") && !text.contains("\u{FFFD}"),
                                   "chunk with replacement character for '\(show(text))'")
                    joined += chunk
                }
                joined += stream.flush()
                XCTAssertEqual(joined, tok.decode(ids, skipSpecial: skip), show(text))
            }
        }
    }

    func testStreamingMatchesDecodeOnRandomIds() throws {
        let tok = try Fixtures.phiTokenizer()
        for row in try Fixtures.jsonl("decode.jsonl") {
            let ids = row.ints("ids")
            var stream = tok.makeStreamingDecoder()
            var joined = ""
            for id in ids { joined += stream.append(id) }
            joined += stream.flush()
            XCTAssertEqual(joined, row.string("text"), "\(ids)")
        }
    }

    func testStreamingHoldsBackPartialCharacter() throws {
        let tok = try Fixtures.phiTokenizer()
        // Byte tokens of "é" (C3 A9) fed one at a time.
        let c3 = try XCTUnwrap((0..<256).first { tok.tokenBytes($0) == [0xC3] })
        let a9 = try XCTUnwrap((0..<256).first { tok.tokenBytes($0) == [0xA9] })
        var stream = tok.makeStreamingDecoder()
        XCTAssertEqual(stream.append(c3), "")
        XCTAssertEqual(stream.append(a9), "é")
        XCTAssertEqual(stream.append(c3), "")
        XCTAssertEqual(stream.flush(), "\u{FFFD}")
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x61, 0xE2, 0x82]), 1)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x61, 0xE0, 0x80]), 3)  // invalid: not held
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0xF0, 0x9F, 0x98]), 0)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x80, 0x80, 0x80, 0x80]), 4)
    }
}
