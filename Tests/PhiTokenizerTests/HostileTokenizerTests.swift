import Foundation
import XCTest
@testable import PhiTokenizer

/// Issue 10's tokenizer findings: each hostile tokenizer.json / folder gives a clear error (or a correct result)
/// without deep recursion, unbounded memory or a hang.
final class HostileTokenizerTests: XCTestCase {
    private let model = #""model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}"#
    private let pre = #""pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}"#
    private let dec = #""decoder":{"type":"ByteLevel"}"#

    private func load(_ json: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: nil)
    }

    /// Runs `body` on a thread with a 512 KiB stack (a server worker's), so per-step recursion would crash here.
    private func onSmallStack(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
    }

    private func errorText(_ json: String) -> String? {
        do {
            _ = try load(json)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Finding 3: a pre_tokenizer Sequence of 44,000 Digits steps (0.9 MB) crashed with a stack overflow.
    func testFinding3LongPreTokenizerSequenceOnSmallStack() {
        let steps = Array(repeating: #"{"type":"Digits","individual_digits":true}"#, count: 44_000).joined(separator: ",")
        let json = #"{\#(model),"pre_tokenizer":{"type":"Sequence","pretokenizers":[\#(steps)]},\#(dec)}"#
        XCTAssertGreaterThan(json.utf8.count, 900_000)
        let box = ResultBox()
        onSmallStack { box.set(self.errorText(json)) }
        XCTAssertEqual(box.value.map { $0.contains("more than \(PreTokenizer.maxSteps) pre-tokenizer steps") }, true,
                       box.value ?? "loaded")
    }

    /// The same within the limit still works, and splits like the steps say (Digits individual, then ByteLevel).
    func testPreTokenizerSequenceAtTheLimitWorks() throws {
        let steps = Array(repeating: #"{"type":"Digits","individual_digits":true}"#, count: PreTokenizer.maxSteps - 1)
            + [#"{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}"#]
        let tok = try load(#"{\#(model),"pre_tokenizer":{"type":"Sequence","pretokenizers":[\#(steps.joined(separator: ","))]},\#(dec)}"#)
        XCTAssertEqual(tok.preTokenizer.split("ab12 ab"), ["ab", "1", "2", " ab"])
        let over = Array(repeating: #"{"type":"Digits"}"#, count: PreTokenizer.maxSteps + 1).joined(separator: ",")
        XCTAssertNotNil(errorText(#"{\#(model),"pre_tokenizer":{"type":"Sequence","pretokenizers":[\#(over)]},\#(dec)}"#))
    }

    /// Nested Sequences, and long decoder / normalizer / post-processor chains: clear errors, no recursion per step.
    func testDeepAndLongComponentChainsOnSmallStack() {
        var nested = #"{"type":"Digits"}"#
        for _ in 0..<2_000 { nested = #"{"type":"Sequence","pretokenizers":[\#(nested)]}"# }
        let longDecoders = Array(repeating: #"{"type":"ByteLevel"}"#, count: 44_000).joined(separator: ",")
        let longNormalizers = Array(repeating: #"{"type":"Prepend","prepend":"x"}"#, count: 44_000).joined(separator: ",")
        let longProcessors = Array(repeating: #"{"type":"ByteLevel"}"#, count: 44_000).joined(separator: ",")
        var nestedDecoder = #"{"type":"ByteLevel"}"#
        for _ in 0..<2_000 { nestedDecoder = #"{"type":"Sequence","decoders":[\#(nestedDecoder)]}"# }
        let cases: [(String, String)] = [
            (#"{\#(model),"pre_tokenizer":\#(nested),\#(dec)}"#, "nesting deeper"),
            (#"{\#(model),\#(pre),"decoder":{"type":"Sequence","decoders":[\#(longDecoders)]}}"#, "decoders"),
            (#"{\#(model),\#(pre),"decoder":\#(nestedDecoder)}"#, "nesting deeper"),
            (#"{\#(model),"normalizer":{"type":"Sequence","normalizers":[\#(longNormalizers)]},\#(pre),\#(dec)}"#, "normalizers"),
            (#"{\#(model),\#(pre),\#(dec),"post_processor":{"type":"Sequence","processors":[\#(longProcessors)]}}"#, "post-processors"),
        ]
        for (json, needle) in cases {
            let box = ResultBox()
            onSmallStack { box.set(self.errorText(json)) }
            XCTAssertEqual(box.value.map { $0.contains(needle) }, true, "\(box.value ?? "loaded") should mention \(needle)")
        }
    }

    /// Rewrite chains that multiply the text (Replace "a" -> "aa", again and again) are refused before any text
    /// is rewritten; the SentencePiece chains real tokenizers use load.
    func testRewriteExpansionIsBounded() throws {
        let spm = #""model":{"type":"BPE","vocab":{"▁":0,"a":1},"merges":[]}"#
        let spmDecoder = #""decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"#
        let phi3 = #"{\#(spm),"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},"pre_tokenizer":null,\#(spmDecoder)}"#
        XCTAssertEqual(try load(phi3).encode("a a"), [0, 1, 0, 1])
        let doubling = Array(repeating: #"{"type":"Replace","pattern":{"String":"a"},"content":"aa"}"#, count: 5)
            .joined(separator: ",")
        let bomb = #"{\#(spm),"normalizer":{"type":"Sequence","normalizers":[\#(doubling)]},"pre_tokenizer":null,\#(spmDecoder)}"#
        XCTAssertTrue(errorText(bomb)?.contains("times longer") == true, errorText(bomb) ?? "loaded")
        let decoderBomb = #"{\#(spm),"normalizer":{"type":"Prepend","prepend":"▁"},"pre_tokenizer":null,"decoder":{"type":"Sequence","decoders":[\#(doubling)]}}"#
        XCTAssertTrue(errorText(decoderBomb)?.contains("times longer") == true, errorText(decoderBomb) ?? "loaded")
        let longPrefix = String(repeating: "x", count: TokenizerJSONLoader.maxRewritePrefixBytes + 1)
        let prefixBomb = #"{\#(spm),"normalizer":{"type":"Prepend","prepend":"\#(longPrefix)"},"pre_tokenizer":null,\#(spmDecoder)}"#
        XCTAssertNotNil(errorText(prefixBomb))
    }

    /// Finding 7, first half: one token id of 16,777,215 made every dense table 16.8 M rows (444 MB).
    func testFinding7SparseTokenIDIsRefused() throws {
        let sparse = #"{"model":{"type":"BPE","vocab":{"a":0,"b":16777215},"merges":[]},\#(pre),\#(dec)}"#
        XCTAssertTrue(errorText(sparse)?.contains("far beyond the 2 entries") == true, errorText(sparse) ?? "loaded")
        let addedSparse = #"{\#(model),\#(pre),\#(dec),"added_tokens":[{"id":16000000,"content":"<x>","special":true}]}"#
        XCTAssertTrue(errorText(addedSparse)?.contains("far beyond") == true, errorText(addedSparse) ?? "loaded")
        // Tiny test vocabularies keep their special tokens at real ids (Phi-4's start at 199,999).
        let tiny = try load(#"{\#(model),\#(pre),\#(dec),"added_tokens":[{"id":200028,"content":"<|tag|>","special":true}]}"#)
        XCTAssertEqual(tiny.vocabularySize, 200_029)
        XCTAssertEqual(tiny.encode("<|tag|>ab", parseSpecial: true), [200_028, 2])
        // A padded dense vocabulary of 100,000 entries with ids up to 2 × entries + slack - 1 loads.
        var vocab: [(String, Int)] = (0..<100_000).map { ("t\($0)", $0) }
        vocab.append(("last", 2 * 100_001 + Tokenizer.idSlack - 1))
        let components = TokenizerComponents(vocab: vocab, merges: [], ignoreMerges: false, unkToken: nil, fuseUnk: false,
                                             preTokenizer: .byteLevel(), addedTokens: [], bosToken: nil, eosToken: nil,
                                             chatTemplate: nil, file: "test")
        XCTAssertNoThrow(try Tokenizer.checkIDRange(components))
        var over = components
        over.vocab[over.vocab.count - 1].1 += 1
        XCTAssertThrowsError(try Tokenizer.checkIDRange(over))
    }

    /// Finding 5: a FIFO named tokenizer.json (or tokenizer_config.json, chat_template.jinja) blocked forever.
    func testFinding5FIFOInModelFolderIsAnError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phitok-fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = Data("{\(model),\(pre),\(dec)}".utf8)
        for name in ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja"] {
            for other in ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja"] {
                try? FileManager.default.removeItem(at: dir.appendingPathComponent(other))
            }
            if name != "tokenizer.json" { try json.write(to: dir.appendingPathComponent("tokenizer.json")) }
            XCTAssertEqual(mkfifo(dir.appendingPathComponent(name).path, 0o600), 0)
            XCTAssertThrowsError(try Tokenizer(directory: dir), name) { error in
                XCTAssertEqual("\(error)".contains("FIFO"), true, "\(error)")
                XCTAssertEqual("\(error)".contains(name), true, "\(error)")
            }
        }
        // A directory in place of the config is refused too; without it the folder loads.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("chat_template.jinja"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tokenizer_config.json"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try Tokenizer(directory: dir)) { XCTAssertTrue("\($0)".contains("directory"), "\($0)") }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tokenizer_config.json"))
        XCTAssertEqual(try Tokenizer(directory: dir).encode("ab"), [2])
    }
}

/// A value handed back from another thread.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ v: String?) { lock.lock(); stored = v; lock.unlock() }
    var value: String? { lock.lock(); defer { lock.unlock() }; return stored }
}
