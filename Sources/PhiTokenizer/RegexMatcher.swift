import Foundation

/// Fallback for pre-tokenizer patterns without a hand-coded matcher: ICU via `NSRegularExpression`.
///
/// ICU's `\s` is `[\t\n\f\r\p{Z}]`, which misses U+000B and U+0085; Oniguruma's (HF) is Unicode White_Space.
/// `\s` / `\S` are therefore rewritten to the explicit class before compiling.
final class RegexMatcher: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe
    let pattern: String
    private let regex: NSRegularExpression

    static let whitespaceClassBody = #"\t\n\x{0B}\f\r\x{85}\p{Z}"#

    init(pattern: String) throws {
        self.pattern = pattern
        do {
            regex = try NSRegularExpression(pattern: Self.rewriteWhitespace(pattern), options: [])
        } catch {
            throw TokenizerError.invalidPattern(pattern: pattern, detail: "\(error)")
        }
    }

    /// Replaces `\s` and `\S` (outside and inside character classes) by explicit White_Space classes.
    static func rewriteWhitespace(_ pattern: String) -> String {
        var out = ""
        var depth = 0
        var chars = Array(pattern.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if c == "\\", let d = chars.popFirst() {
                switch d {
                case "s": out += depth > 0 ? whitespaceClassBody : "[\(whitespaceClassBody)]"
                case "S": out += "[^\(whitespaceClassBody)]"
                default:
                    out.unicodeScalars.append(c)
                    out.unicodeScalars.append(d)
                }
                continue
            }
            if c == "[" {
                depth += 1
            } else if c == "]" && depth > 0 {
                depth -= 1
            }
            out.unicodeScalars.append(c)
        }
        return out
    }

    /// Byte ranges of all matches (leftmost-first, non-overlapping) in valid UTF-8.
    func matches(_ p: UnsafePointer<UInt8>, _ n: Int) -> [(Int, Int)] {
        let text = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        // UTF-16 offset -> UTF-8 offset.
        var map = [Int](repeating: 0, count: text.utf16.count + 1)
        var u16 = 0
        var u8 = 0
        for s in text.unicodeScalars {
            let l16 = s.utf16.count
            for k in 0..<l16 { map[u16 + k] = u8 }
            u16 += l16
            u8 += s.utf8.count
        }
        map[u16] = u8
        let ns = text as NSString
        return regex.matches(in: text, options: [], range: NSRange(location: 0, length: ns.length)).map { m in
            (map[m.range.location], map[m.range.location + m.range.length])
        }
    }
}
