import Foundation
import XCTest
@testable import PhiTokenizer

final class ErrorTests: XCTestCase {
    private func load(_ json: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: nil)
    }

    private let model = #""model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}"#
    private let pre = #""pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}"#
    private let dec = #""decoder":{"type":"ByteLevel"}"#

    private func expectError(_ json: String, contains needle: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try load(json), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(needle), "'\(error)' should mention '\(needle)'", file: file, line: line)
        }
    }

    func testValidMinimalTokenizerLoads() throws {
        let tok = try load("{\(model),\(pre),\(dec)}")
        XCTAssertEqual(tok.encode("ab"), [2])
        XCTAssertEqual(tok.encode("abc"), [2])  // 'c' is not in the vocab and there is no unk: dropped, like HF
    }

    func testMalformedJSON() {
        expectError("{\"model\": ", contains: "not a valid JSON")
        expectError("[1, 2]", contains: "top level is not an object")
        expectError("", contains: "not a valid JSON")
    }

    func testMissingAndInvalidFields() {
        expectError("{\(pre),\(dec)}", contains: "'model'")
        expectError(#"{"model":{"type":"BPE","merges":[]},\#(pre),\#(dec)}"#, contains: "model.vocab")
        expectError(#"{"model":{"type":"BPE","vocab":{"a":"x"}},\#(pre),\#(dec)}"#, contains: "model.vocab")
        expectError(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]},\#(pre),\#(dec)}"#, contains: "merges[0]")
        expectError(#"{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},\#(pre),\#(dec)}"#,
                    contains: "not in model.vocab")
        expectError(#"{\#(model),\#(pre),\#(dec),"added_tokens":[{"id":5}]}"#, contains: "content")
        expectError(#"{\#(model),\#(pre),\#(dec),"added_tokens":{"a":1}}"#, contains: "added_tokens")
        expectError(#"{"model":{"type":"BPE","vocab":{"a":2000000000}},\#(pre),\#(dec)}"#, contains: "out of range")
        expectError(#"{\#(model),\#(pre),\#(dec),"added_tokens":[{"id":2000000000,"content":"x"}]}"#,
                    contains: "exceeds")
    }

    func testUnsupportedComponentsAreNamed() {
        expectError(#"{"model":{"type":"WordPiece","vocab":{}},\#(pre),\#(dec)}"#, contains: "WordPiece")
        expectError(#"{\#(model),"normalizer":{"type":"NFC"},\#(pre),\#(dec)}"#, contains: "NFC")
        expectError(#"{\#(model),"pre_tokenizer":{"type":"Metaspace"},\#(dec)}"#, contains: "Metaspace")
        expectError(#"{\#(model),"pre_tokenizer":null,\#(dec)}"#, contains: "pre_tokenizer")
        expectError(#"{\#(model),\#(pre),"decoder":{"type":"WordPiece"}}"#, contains: "WordPiece")
        expectError(#"{\#(model),\#(pre),"decoder":null}"#, contains: "decoder")
        expectError(#"{\#(model),\#(pre),\#(dec),"post_processor":{"type":"Mystery"}}"#, contains: "Mystery")
        expectError(#"{"model":{"type":"BPE","vocab":{"a":0},"byte_fallback":true},\#(pre),\#(dec)}"#,
                    contains: "byte_fallback")
        expectError(#"{\#(model),"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(unclosed"},"behavior":"Isolated"},\#(dec)}"#,
                    contains: "regex")
        expectError(#"{\#(model),"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"},{"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways"}]},\#(dec)}"#,
                    contains: "Sideways")
    }

    func testMissingFilesAndBadConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phitok-\(UUID().uuidString)")
        XCTAssertThrowsError(try Tokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("tokenizer.json")) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{\(model),\(pre),\(dec)}".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        XCTAssertThrowsError(try Tokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("tokenizer_config.json")) }
        try Data(#"{"eos_token":{"content":"ab"},"chat_template":[{"name":"default","template":"T"}]}"#.utf8)
            .write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let tok = try Tokenizer(directory: dir)
        XCTAssertEqual(tok.eosTokenID, 2)
        XCTAssertEqual(tok.chatTemplate, "T")
    }
}
