import Foundation
import XCTest
@testable import PhiTokenizer

/// The hand-coded matchers against their spec: the same pattern run by the regex engine (`RegexMatcher`, itself
/// checked against ICU in `RegexMatcherTests`) must give the same pieces on the whole corpus.
final class PreTokenizerTests: XCTestCase {
    private func corpus() throws -> [String] {
        var lines = try Fixtures.jsonl("encode_plain.jsonl").map { $0.string("text") }
        lines += ["it'ſ IT'S x'LL", "\u{301}\u{301}a", "a\u{301}B\u{301}c", "ǅǅǆ", "  \u{b}\u{85}x", "\r\n\r\n  \r\n",
                  "12345 ١٢٣٤ ⅫⅫⅫⅫ", "\t\t\u{a0}end", "😀😀 😀", "a//\n\n/", "ab'sc'T'Re"]
        return lines
    }

    private func compare(_ pattern: String, _ fast: PreTokenizer.Matcher) throws {
        let reference = PreTokenizer(steps: [.split(.regex(try RegexMatcher(pattern: pattern)), .isolated, invert: false)])
        let handCoded = PreTokenizer(steps: [.split(fast, .isolated, invert: false)])
        XCTAssertNotNil(handCoded.fastMatcher)
        XCTAssertNil(reference.fastMatcher)
        var failures = 0
        for line in try corpus() {
            let a = handCoded.split(line), b = reference.split(line)
            if a != b {
                failures += 1
                if failures < 5 { XCTFail("\(fast) '\(show(line))': \(a.map(show)) vs regex \(b.map(show))") }
            }
        }
        XCTAssertEqual(failures, 0)
    }

    func testO200kMatchesRegexEngine() throws { try compare(PreTokenizer.o200kPattern, .o200k) }
    func testLlama3MatchesRegexEngine() throws { try compare(PreTokenizer.llama3Pattern, .llama3) }
    func testGPT2MatchesRegexEngine() throws { try compare(PreTokenizer.gpt2Pattern, .gpt2) }

    func testPatternSelection() throws {
        XCTAssertNotNil(try PreTokenizer(splitPattern: PreTokenizer.o200kPattern).fastMatcher)
        XCTAssertNotNil(try PreTokenizer(splitPattern: PreTokenizer.llama3Pattern).fastMatcher)
        XCTAssertNil(try PreTokenizer(splitPattern: #"\p{L}+|\s+"#).fastMatcher)
        XCTAssertEqual(try PreTokenizer(splitPattern: #"\s+|\S+"#).split("a\u{b}\u{85}b"), ["a", "\u{b}\u{85}", "b"])
    }

    func testSplitBehaviors() {
        // Matches of "-" in "a-b--c": HF SplitDelimiterBehavior semantics.
        let m: [(Int, Int)] = [(1, 2), (3, 4), (4, 5)]
        func run(_ b: PreTokenizer.Behavior, invert: Bool = false) -> [[Int]] {
            PreTokenizer.pieces(matches: m, count: 6, behavior: b, invert: invert).map { [$0.0, $0.1] }
        }
        XCTAssertEqual(run(.isolated), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6]])
        XCTAssertEqual(run(.removed), [[0, 1], [2, 3], [5, 6]])
        XCTAssertEqual(run(.mergedWithPrevious), [[0, 2], [2, 4], [4, 5], [5, 6]])
        XCTAssertEqual(run(.mergedWithNext), [[0, 1], [1, 3], [3, 4], [4, 6]])
        XCTAssertEqual(run(.contiguous), [[0, 1], [1, 2], [2, 3], [3, 5], [5, 6]])
        XCTAssertEqual(run(.removed, invert: true), [[1, 2], [3, 4], [4, 5]])
    }
}

final class ConcurrencyTests: XCTestCase {
    func testConcurrentEncodeIsConsistent() throws {
        let tok = try Fixtures.phiTokenizer()
        let rows = Array(try Fixtures.jsonl("encode_plain.jsonl").prefix(400))
        let texts = rows.map { $0.string("text") }
        let expected = rows.map { $0.ints("ids") }
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for (i, text) in texts.enumerated() where (i + worker) % 2 == 0 {
                if tok.encode(text) != expected[i] { mismatches.add() }
            }
        }
        XCTAssertEqual(mismatches.count, 0)
    }
}

private final class Mismatches: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
