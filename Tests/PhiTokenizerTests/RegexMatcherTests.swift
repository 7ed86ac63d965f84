import Foundation
import XCTest
@testable import PhiTokenizer

/// The Pike VM against ICU (`NSRegularExpression`, here only as a test oracle) on tokenizer patterns, its time
/// bound on patterns that make backtracking engines explode, and its refusal of syntax it does not implement.
final class RegexMatcherTests: XCTestCase {
    /// ICU with `\s` / `\S` rewritten to Unicode White_Space (ICU's `\s` misses U+000B and U+0085; Oniguruma's,
    /// the HF reference, is White_Space).
    private struct ICU {
        let regex: NSRegularExpression
        static let whitespace = #"\t\n\x{0B}\f\r\x{85}\p{Z}"#

        init(_ pattern: String) throws {
            var out = ""
            var depth = 0
            var chars = Array(pattern.unicodeScalars)[...]
            while let c = chars.popFirst() {
                if c == "\\", let d = chars.popFirst() {
                    switch d {
                    case "s": out += depth > 0 ? Self.whitespace : "[\(Self.whitespace)]"
                    case "S": out += "[^\(Self.whitespace)]"
                    default: out.unicodeScalars.append(c); out.unicodeScalars.append(d)
                    }
                    continue
                }
                if c == "[" { depth += 1 } else if c == "]" && depth > 0 { depth -= 1 }
                out.unicodeScalars.append(c)
            }
            regex = try NSRegularExpression(pattern: out)
        }

        /// Matches as UTF-8 byte ranges.
        func matches(_ text: String) -> [[Int]] {
            let ns = text as NSString
            return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
                let a = ns.substring(to: m.range.location).utf8.count
                return [a, a + ns.substring(with: m.range).utf8.count]
            }
        }
    }

    private func vm(_ pattern: String, _ text: String) throws -> [[Int]] {
        try vm(RegexMatcher(pattern: pattern), text)
    }

    private func vm(_ matcher: RegexMatcher, _ text: String) -> [[Int]] {
        var text = text
        return text.withUTF8 { b in
            guard let p = b.baseAddress, b.count > 0 else { return [] }
            return matcher.matches(p, b.count).map { [$0.0, $0.1] }
        }
    }

    private func steps(_ pattern: String, _ text: String) throws -> Int {
        let matcher = try RegexMatcher(pattern: pattern)
        var text = text
        var count = 0
        _ = text.withUTF8 { b in matcher.matches(b.baseAddress!, b.count, steps: &count) }
        return count
    }

    static let patterns: [String] = [
        PreTokenizer.o200kPattern, PreTokenizer.llama3Pattern, PreTokenizer.gpt2Pattern,
        // Qwen2 / DeepSeek style: digits one at a time, otherwise Llama-3.
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
    ] + PreTokenizer.llamaCppDefaultPatterns + [
        #"\p{N}{1,3}"#, #"[A-Za-z]+|\d+|[^\sA-Za-z\d]"#, #"\s*\S+?"#, #"[\p{Lu}\p{Lt}]*[\p{Ll}]+"#,
        #"[a-c]{2,}?x|b"#, #"(?:ab|a)(?:bc|c)?"#, #"[^\p{P}\p{S}]+|\p{P}|\p{S}"#, #"\x{4e00}-?|[\u3040-\u30ff]+"#,
        #"(?i)HELLO|world"#, #"a[^\n]b|\.\."#, #"[ \t]+(?=\n)|\n"#,
    ]

    private func corpus() throws -> [String] {
        var lines = Array(try Fixtures.jsonl("encode_plain.jsonl").map { $0.string("text") }.prefix(300))
        lines += ["it'ſ IT'S x'LL", "\u{301}\u{301}a", "a\u{301}B\u{301}c", "ǅǅǆ", "  \u{b}\u{85}x", "\r\n\r\n  \r\n",
                  "12345 ١٢٣٤ ⅫⅫⅫⅫ", "\t\t\u{a0}end", "😀😀 😀", "a//\n\n/", "ab'sc'T'Re", "abcabcx aabbx",
                  "the other the\nthen", "hello WORLD Hello", "a.b..c", "一-ぁァ", "x  \n\t\ny"]
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ab cA1'\n\t.,-_😀é\u{301}一٣\u{85}")
        for _ in 0..<300 {
            lines.append(String((0..<Int.random(in: 1...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
        }
        return lines
    }

    func testMatchesICUOnTokenizerPatterns() throws {
        let lines = try corpus()
        for pattern in Self.patterns {
            let icu = try ICU(pattern)
            let matcher = try RegexMatcher(pattern: pattern)
            var failures = 0
            for line in lines {
                let a = vm(matcher, line), b = icu.matches(line)
                if a != b {
                    failures += 1
                    if failures <= 3 { XCTFail("\(pattern) on \(line.debugDescription): \(a) vs ICU \(b)") }
                }
            }
            XCTAssertEqual(failures, 0, pattern)
        }
    }

    /// Issue 10, finding 5: `(a+)+$` took ICU 20 s at 60 characters. The VM's work grows linearly with the text
    /// (steps counted, not seconds: at most instructions × scalars per search).
    func testCatastrophicPatternsAreLinear() throws {
        for pattern in [#"(a+)+$"#, #"(a|aa)*c"#, #"(x+x+)+y"#, #"(\w+\s?)*$"#, #"^(a|a?)+b"#] {
            let insts = try RegexMatcher(pattern: pattern).program.insts.count
            let small = try steps(pattern, String(repeating: "a", count: 1_000) + "!")
            let large = try steps(pattern, String(repeating: "a", count: 8_000) + "!")
            XCTAssertLessThanOrEqual(large, 8_001 * insts, pattern)
            XCTAssertLessThan(Double(large) / Double(max(small, 1)), 10, "\(pattern): \(small) -> \(large) steps")
        }
        XCTAssertEqual(try vm(#"(a+)+$"#, String(repeating: "a", count: 60) + "b"), [])
        XCTAssertEqual(try vm(#"(a+)+$"#, String(repeating: "a", count: 60)), [[0, 60]])
    }

    /// A tokenizer.json with the issue's pattern loads and encodes quickly instead of hanging.
    func testHostileSplitPatternInTokenizerJSON() throws {
        let json = #"{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(a+)+$"},"behavior":"Isolated"},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},"decoder":{"type":"ByteLevel"}}"#
        let tok = try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: nil)
        let text = String(repeating: "a", count: 20_000) + "b"
        XCTAssertEqual(tok.encode(text).count, 20_000)  // 19,999 × "a", then "ab"
        XCTAssertEqual(tok.preTokenizer.split("aab aa"), ["aab ", "aa"])
    }

    func testEmptyMatchesFollowOniguruma() throws {
        // find_iter: an empty match right after the previous match is skipped.
        XCTAssertEqual(try vm("a*", "baab"), [[0, 0], [1, 3], [4, 4]])
        XCTAssertEqual(try vm("x?", "ab"), [[0, 0], [1, 1], [2, 2]])
    }

    /// Where Oniguruma (HF) and ICU differ, the VM follows Oniguruma: `.` excludes only `\n`, `^`/`$` are line
    /// anchors, `\w` is Letter | Mark | Number | Connector_Punctuation.
    func testOnigurumaSemantics() throws {
        XCTAssertEqual(try vm("a.b", "a\u{85}b a\nb"), [[0, 4]])
        XCTAssertEqual(try vm("^x|y$", "x\nxy\ny"), [[0, 1], [2, 3], [3, 4], [5, 6]])
        XCTAssertEqual(try vm(#"\w+"#, "a²_\u{301}\u{200D}b"), [[0, 6], [9, 10]])
        XCTAssertEqual(try vm(#"\bthe\b"#, "the other the\nthen"), [[0, 3], [10, 13]])
        XCTAssertEqual(try vm(#"\Bhe"#, "the he"), [[1, 3]])
        XCTAssertEqual(try vm(#"(?i:'s|k)"#, "'ſ K \u{212A}"), [[0, 3], [4, 5], [6, 9]])
        XCTAssertEqual(try vm(#"\A.|.\z|\Z"#, "ab\n"), [[0, 1], [2, 2], [3, 3]])
    }

    func testUnsupportedSyntaxIsRefused() {
        for pattern in [#"(a)\1"#, #"(?<=a)b"#, #"a++"#, #"(?>a)"#, #"[a[b]]"#, #"\p{Han}"#, #"(?=ab)"#, #"[[:alpha:]]"#,
                        #"(?x) a"#, #"[a&&b]"#, "(unclosed", "a)", "*a", #"\"#, String(repeating: "(", count: 100),
                        String(repeating: "a{1000}", count: 10),
                        // A maximum below the minimum (the long fuzz run of the tokenizer target found it trapping).
                        #"\p{N}{4,3}"#, "a{2,1}?"] {
            XCTAssertThrowsError(try RegexMatcher(pattern: pattern), pattern) { error in
                XCTAssertTrue("\(error)".contains("regex"), "\(error)")
            }
        }
    }
}
