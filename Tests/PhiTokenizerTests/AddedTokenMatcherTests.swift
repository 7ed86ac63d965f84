import Foundation
import XCTest
@testable import PhiTokenizer
import PhiTestSupport

/// Added-token matching: the linear matcher against the direct reading of HF's `find_matches` (longest token
/// tried at each position, strips walked in full) on random tables, and its work on the inputs that made the
/// direct reading quadratic (issue 10, finding 5).
final class AddedTokenMatcherTests: XCTestCase {
    /// HF `find_matches` read directly: at each position the longest token starting there, found by comparing
    /// every token; `lstrip` / `rstrip` walk the whitespace in full.
    private func reference(_ tokens: [AddedToken], _ text: [UInt8]) -> [AddedTokenMatcher.Segment] {
        var unique: [AddedToken] = []
        for t in tokens where !t.content.isEmpty && !unique.contains(where: { $0.content == t.content }) { unique.append(t) }
        let n = text.count
        func isWhite(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { $0.properties.isWhitespace } }
        func isWord(_ u: Unicode.Scalar) -> Bool { u.properties.isAlphabetic || u.properties.numericType != nil || u == "_" }
        func scalar(endingAt e: Int) -> (Unicode.Scalar, Int) {
            var k = e - 1
            while k > 0 && text[k] & 0xC0 == 0x80 { k -= 1 }
            return (String(decoding: text[k..<e], as: UTF8.self).unicodeScalars.first!, e - k)
        }
        func scalar(at s: Int) -> (Unicode.Scalar, Int) {
            var k = s + 1
            while k < n && text[k] & 0xC0 == 0x80 { k += 1 }
            return (String(decoding: text[s..<k], as: UTF8.self).unicodeScalars.first!, k - s)
        }
        var out: [AddedTokenMatcher.Segment] = []
        var startOffset = 0, i = 0
        while i < n {
            var best: AddedToken?
            for t in unique {
                let c = Array(t.content.utf8)
                if c.count <= n - i && Array(text[i..<(i + c.count)]) == c && c.count > (best?.content.utf8.count ?? 0) { best = t }
            }
            guard let token = best else { i += 1; continue }
            var start = i, stop = i + token.content.utf8.count
            i = stop
            if token.singleWord {
                let startSpace = start == 0 || !isWord(scalar(endingAt: start).0)
                let stopSpace = stop == n || !isWord(scalar(at: stop).0)
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                var s = start
                while s > 0 {
                    let (u, l) = scalar(endingAt: s)
                    if !isWhite(String(u)) { break }
                    s -= l
                }
                start = max(s, startOffset)
            }
            if token.rstrip {
                while stop < n {
                    let (u, l) = scalar(at: stop)
                    if !isWhite(String(u)) { break }
                    stop += l
                }
            }
            if startOffset < start { out.append(.text(startOffset, start)) }
            out.append(.token(token.id))
            startOffset = stop
        }
        if startOffset < n { out.append(.text(startOffset, n)) }
        return out
    }

    private func linear(_ tokens: [AddedToken], _ text: [UInt8], work: inout Int) -> [AddedTokenMatcher.Segment] {
        let pass = AddedTokenMatcher.Pass(tokens)
        return text.withUnsafeBufferPointer { b in
            AddedTokenMatcher.find(pass, b.baseAddress!, 0, b.count, work: &work)
        }
    }

    func testSameSegmentsAsTheDirectReading() {
        var rng = SplitMix64(seed: 10)
        let pieces = ["<", ">", "|", "a", "b", " ", "\n", "é", "<|", "|>", "ab", "  "]
        var checked = 0
        for round in 0..<400 {
            var tokens: [AddedToken] = []
            for k in 0..<Int.random(in: 1...8, using: &rng) {
                let content = (0..<Int.random(in: 1...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
                tokens.append(AddedToken(id: 1000 + k, content: content, special: true,
                                         lstrip: Bool.random(using: &rng), rstrip: Bool.random(using: &rng),
                                         singleWord: round % 3 == 0 && Bool.random(using: &rng)))
            }
            let text = Array((0..<Int.random(in: 0...40, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined().utf8)
            guard !text.isEmpty else { continue }
            var work = 0
            let got = linear(tokens, text, work: &work)
            let want = reference(tokens, text)
            XCTAssertEqual(got, want, "tokens \(tokens.map(\.content)) text \(String(decoding: text, as: UTF8.self).debugDescription)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 350)
    }

    /// Issue 10: 50,000 added tokens starting with `<` and `--parse-special` on 20,000 `<`. Work (automaton
    /// transitions and whitespace scalars examined) stays a small multiple of the text length for nested prefixes
    /// (`<`, `<<`, …, a trie walk per position was text × longest token), near-misses and whitespace tokens.
    func testWorkIsLinearInTheText() {
        var tokens = (0..<50_000).map { AddedToken(id: 100_000 + $0, content: "<tok\($0)>", special: true) }
        tokens += (1...500).map { AddedToken(id: 200_000 + $0, content: String(repeating: "<", count: $0) + "!", special: true) }
        tokens.append(AddedToken(id: 300_000, content: "<", special: true))
        tokens.append(AddedToken(id: 300_001, content: "\n", special: true, lstrip: true, rstrip: true))
        tokens.append(AddedToken(id: 300_002, content: " ", special: true, lstrip: true, rstrip: true))
        for unit in ["<", "\n", " ", "<tok1", "<<<<!"] {
            var small = 0, large = 0
            let a = linear(tokens, Array(String(repeating: unit, count: 20_000 / unit.count).utf8), work: &small)
            let b = linear(tokens, Array(String(repeating: unit, count: 160_000 / unit.count).utf8), work: &large)
            XCTAssertFalse(a.isEmpty)
            XCTAssertFalse(b.isEmpty)
            XCTAssertLessThanOrEqual(large, 8 * 160_000, "\(unit.debugDescription): \(large) steps")
            XCTAssertLessThan(Double(large) / Double(small), 9, "\(unit.debugDescription): \(small) -> \(large)")
        }
    }

    func testTokenizerWithManyAddedTokensParsesSpecialLinearly() throws {
        let added = (0..<50_000).map { #"{"id":\#(3 + $0),"content":"<t\#($0)>","special":true}"# }.joined(separator: ",")
        let json = #"{"model":{"type":"BPE","vocab":{"<":0,"b":1,"<b":2},"merges":["< b"]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},"decoder":{"type":"ByteLevel"},"added_tokens":[\#(added)]}"#
        let tok = try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: nil)
        let ids = tok.encode(String(repeating: "<", count: 20_000) + "<t49999><b", parseSpecial: true)
        XCTAssertEqual(ids.suffix(3), [50_002, 0, 1])  // "<b" is two pre-tokens ("<", "b")
        XCTAssertEqual(ids.count, 20_003)
    }
}
