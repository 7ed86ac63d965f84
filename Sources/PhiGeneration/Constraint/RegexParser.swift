/// Regular expressions to grammar expressions, over Unicode scalars encoded as UTF-8.
///
/// Syntax: literals, `.` (any character but newline), classes `[a-z]` `[^…]` (with `\d \w \s` and escapes inside),
/// `\d \D \w \W \s \S`, escapes `\n \r \t \f \v \0 \xHH \uHHHH \u{H…}` and `\` + punctuation, groups `( )` `(?: )`
/// and named groups `(?<n> )`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}`, one per atom (a trailing `?`
/// for laziness is accepted and ignored: only the language matters). The whole text must match; `^` at the start
/// and `$` at the end are accepted. Backreferences, lookaround and anchors elsewhere are `ConstraintError.unsupported`.
///
/// With `jsonString`, characters are written as they would appear inside a JSON string literal (`"` as `\"`,
/// `\` as `\\`, control characters escaped), so a schema `pattern` constrains the decoded string.
struct RegexParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private let jsonString: Bool
    private let path: String

    init(_ pattern: String, jsonString: Bool = false, path: String = "regex") {
        s = Array(pattern.unicodeScalars)
        self.jsonString = jsonString
        self.path = path
    }

    /// The expression for the whole pattern, anchored at both ends.
    static func parse(_ pattern: String, jsonString: Bool = false, path: String = "regex") throws -> GExpr {
        var p = RegexParser(pattern, jsonString: jsonString, path: path)
        return try p.parseAll()
    }

    /// A JSON-schema `pattern`: a search, so unanchored sides match anything.
    static func parseSearch(_ pattern: String, path: String) throws -> GExpr {
        var body = pattern
        let anchoredStart = body.hasPrefix("^")
        if anchoredStart { body.removeFirst() }
        var anchoredEnd = false
        if body.hasSuffix("$") && !body.hasSuffix("\\$") { anchoredEnd = true; body.removeLast() }
        var p = RegexParser(body, jsonString: true, path: path)
        let e = try p.parseAll()
        let any = GExpr.star(try p.charset(UTF8Ranges.complement([])))
        return .seq((anchoredStart ? [] : [any]) + [e] + (anchoredEnd ? [] : [any]))
    }

    private func fail(_ m: String) -> ConstraintError { .invalid(path: "\(path) at character \(i)", message: m) }
    private func unsupported(_ f: String) -> ConstraintError { .unsupported(feature: f, path: "\(path) at character \(i)") }

    private mutating func parseAll() throws -> GExpr {
        if i < s.count && s[i] == "^" { i += 1 }
        let e = try alternation(depth: 0)
        if i < s.count && s[i] == "$" && i == s.count - 1 { i += 1 }
        guard i == s.count else { throw s[i] == ")" ? fail("unbalanced ')'") : unsupported("anchor '\(s[i])' inside the pattern") }
        return e
    }

    private mutating func alternation(depth: Int) throws -> GExpr {
        guard depth < 100 else { throw fail("groups nested too deeply") }
        var alts = [try concat(depth: depth)]
        while i < s.count && s[i] == "|" {
            i += 1
            alts.append(try concat(depth: depth))
        }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    private mutating func concat(depth: Int) throws -> GExpr {
        var items: [GExpr] = []
        while i < s.count && s[i] != "|" && s[i] != ")" {
            if s[i] == "$" && i == s.count - 1 { break }
            var atom = try self.atom(depth: depth)
            atom = try quantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .seq(items)
    }

    /// At most one quantifier per atom, optionally lazy (`+?`: the same language). A second one (`a**`, `a{2}{3}`)
    /// is an error, as in ECMA-262 and Python: read as nesting, each stacked `+` doubled the copies, up to the
    /// state limit (seconds and a gigabyte under the fuzzer). Possessive `++` changes the language: unsupported.
    private mutating func quantifiers(_ e: GExpr) throws -> GExpr {
        guard let (lo, hi) = try quantifier() else { return e }
        if i < s.count && s[i] == "?" { i += 1 }
        if i < s.count && s[i] == "+" { throw unsupported("possessive quantifier") }
        let save = i
        if try quantifier() != nil { i = save; throw fail("nothing to repeat (a quantifier follows a quantifier)") }
        return .rep(e, min: lo, max: hi)
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}` or `{n,m}` at the cursor (consumed), or nil (a `{` not starting a count is a
    /// literal, left in place).
    private mutating func quantifier() throws -> (Int, Int?)? {
        guard i < s.count else { return nil }
        switch s[i] {
        case "*": i += 1; return (0, nil)
        case "+": i += 1; return (1, nil)
        case "?": i += 1; return (0, 1)
        case "{":
            let save = i
            i += 1
            guard let lo = number() else { i = save; return nil }  // a literal '{'
            var hi: Int? = lo
            if i < s.count && s[i] == "," {
                i += 1
                hi = number()
            }
            guard i < s.count && s[i] == "}" else { throw fail("bad {m,n} quantifier") }
            i += 1
            if let h = hi, h < lo { throw fail("quantifier {\(lo),\(h)} has max below min") }
            return (lo, hi)
        default: return nil
        }
    }

    private mutating func number() -> Int? {
        var v = 0, any = false
        while i < s.count, s[i].isASCII, let d = Int(String(s[i])) {
            v = min(v * 10 + d, 1_000_000)
            any = true
            i += 1
        }
        return any ? v : nil
    }

    private mutating func atom(depth: Int) throws -> GExpr {
        let c = s[i]
        switch c {
        case "(":
            i += 1
            if i < s.count && s[i] == "?" {
                i += 1
                guard i < s.count else { throw fail("unterminated group") }
                if s[i] == ":" { i += 1 } else if s[i] == "<" && i + 1 < s.count && s[i + 1] != "=" && s[i + 1] != "!" {
                    while i < s.count && s[i] != ">" { i += 1 }
                    i += 1
                } else if s[i] == "P" && i + 1 < s.count && s[i + 1] == "<" {
                    while i < s.count && s[i] != ">" { i += 1 }
                    i += 1
                } else {
                    throw unsupported("group (?\(s[i])")
                }
            }
            let e = try alternation(depth: depth + 1)
            guard i < s.count && s[i] == ")" else { throw fail("unterminated group") }
            i += 1
            return e
        case "[":
            return try charset(try bracket())
        case ".":
            i += 1
            return try charset(UTF8Ranges.complement([0x0A...0x0A]))
        case "\\":
            i += 1
            guard i < s.count else { throw fail("trailing backslash") }
            if let cls = try classEscape() { return try charset(cls) }
            let v = try escapedScalar()
            return try charset([v...v])
        case "*", "+", "?":
            throw fail("nothing to repeat")
        case "^", "$":
            throw unsupported("anchor '\(c)' inside the pattern")
        default:
            i += 1
            return try charset([c.value...c.value])
        }
    }

    /// `\d`-style class escapes (after the backslash), or nil.
    private mutating func classEscape() throws -> [ClosedRange<UInt32>]? {
        let c = s[i]
        let digits: [ClosedRange<UInt32>] = [0x30...0x39]
        let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
        let space: [ClosedRange<UInt32>] = [0x09...0x0D, 0x20...0x20]
        switch c {
        case "d": i += 1; return digits
        case "D": i += 1; return UTF8Ranges.complement(digits)
        case "w": i += 1; return word
        case "W": i += 1; return UTF8Ranges.complement(word)
        case "s": i += 1; return space
        case "S": i += 1; return UTF8Ranges.complement(space)
        case "b", "B": throw unsupported("word boundary \\\(c)")
        case "1"..."9": throw unsupported("backreference \\\(c)")
        default: return nil
        }
    }

    /// The scalar of an escape (after the backslash).
    private mutating func escapedScalar() throws -> UInt32 {
        let c = s[i]
        i += 1
        switch c {
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "f": return 0x0C
        case "v": return 0x0B
        case "0": return 0
        case "x", "u":
            var digits = ""
            if i < s.count && s[i] == "{" {
                i += 1
                while i < s.count && s[i] != "}" { digits.unicodeScalars.append(s[i]); i += 1 }
                i += 1
            } else {
                let n = c == "x" ? 2 : 4
                for _ in 0..<n where i < s.count { digits.unicodeScalars.append(s[i]); i += 1 }
            }
            guard let v = UInt32(digits, radix: 16), v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v) else {
                throw fail("bad \\\(c) escape")
            }
            return v
        default:
            if c.properties.isAlphabetic || c.properties.numericType != nil { throw unsupported("escape \\\(c)") }
            return c.value
        }
    }

    private mutating func bracket() throws -> [ClosedRange<UInt32>] {
        i += 1
        var negate = false
        if i < s.count && s[i] == "^" { negate = true; i += 1 }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard i < s.count else { throw fail("unterminated character class") }
            if s[i] == "]" && !first { i += 1; break }
            first = false
            var lo: UInt32
            if s[i] == "\\" {
                i += 1
                guard i < s.count else { throw fail("trailing backslash") }
                if let cls = try classEscape() { ranges += cls; continue }
                lo = try escapedScalar()
            } else if s[i] == "[" && i + 1 < s.count && s[i + 1] == ":" {
                throw unsupported("POSIX class [:…:]")
            } else {
                lo = s[i].value
                i += 1
            }
            var hi = lo
            if i + 1 < s.count && s[i] == "-" && s[i + 1] != "]" {
                i += 1
                if s[i] == "\\" {
                    i += 1
                    guard i < s.count else { throw fail("trailing backslash") }
                    hi = try escapedScalar()
                } else {
                    hi = s[i].value
                    i += 1
                }
                guard hi >= lo else { throw fail("class range out of order") }
            }
            ranges.append(lo...hi)
        }
        let norm = UTF8Ranges.normalize(ranges)
        return negate ? UTF8Ranges.complement(norm) : norm
    }

    /// The expression for one character from `ranges` (JSON-string encoded in `jsonString` mode).
    func charset(_ ranges: [ClosedRange<UInt32>]) throws -> GExpr {
        let norm = UTF8Ranges.normalize(ranges)
        guard jsonString else { return norm.isEmpty ? .never : UTF8Ranges.expr(norm) }
        var escaped: [GExpr] = []
        func has(_ v: UInt32) -> Bool { norm.contains { $0.contains(v) } }
        let special: [(UInt32, String)] = [(0x22, "\\\""), (0x5C, "\\\\"), (0x0A, "\\n"), (0x0D, "\\r"), (0x09, "\\t"),
                                           (0x08, "\\b"), (0x0C, "\\f")]
        for (v, text) in special where has(v) { escaped.append(.literal(text)) }
        for v in UInt32(0)..<0x20 where has(v) && ![0x0A, 0x0D, 0x09, 0x08, 0x0C].contains(v) {
            escaped.append(.literal(String(format: "\\u%04x", v)))
        }
        let plain = UTF8Ranges.normalize(norm.flatMap { r -> [ClosedRange<UInt32>] in
            UTF8Ranges.complement([0...0x1F, 0x22...0x22, 0x5C...0x5C]).compactMap { c in
                let lo = max(c.lowerBound, r.lowerBound), hi = min(c.upperBound, r.upperBound)
                return lo <= hi ? lo...hi : nil
            }
        })
        if !plain.isEmpty { escaped.append(UTF8Ranges.expr(plain)) }
        if escaped.isEmpty { return .never }
        return escaped.count == 1 ? escaped[0] : .alt(escaped)
    }
}

import Foundation
