/// A small GBNF-like grammar language (llama.cpp's GBNF subset):
///
/// ```
/// root   ::= answer ("," answer)*        # the start rule is `root`
/// answer ::= "yes" | "no" | [0-9]{1,3}
/// tool   ::= <|tool_call|> "[" [^\]]* "]" <|/tool_call|>
/// ```
/// A rule is `name ::= alternatives` (it runs until the next `name ::=`); elements are string literals
/// (`"…"` with `\n \t \r \\ \" \xHH \uHHHH` escapes), character classes `[…]` / `[^…]` (as in regexes), `.` (any
/// character), rule names, groups `( … )`, and added tokens written as `<|name|>`; postfix `* + ? {m} {m,} {m,n}`;
/// `#` starts a comment. Left recursion (`a ::= a "x"`) is rejected: write repetition with `*` instead.
struct GrammarParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var ruleIndex: [String: Int] = [:]
    private var grammar = Grammar()
    private var defined = Set<String>()
    private let addedTokens: [String: Int]

    static func parse(_ text: String, addedTokens: [String: Int]) throws -> Grammar {
        var p = GrammarParser(s: Array(text.unicodeScalars), addedTokens: addedTokens)
        return try p.run()
    }

    private init(s: [Unicode.Scalar], addedTokens: [String: Int]) {
        self.s = s
        self.addedTokens = addedTokens
    }

    private func fail(_ m: String) -> ConstraintError { .invalid(path: "grammar at character \(i)", message: m) }

    private mutating func rule(named n: String) -> Int {
        if let r = ruleIndex[n] { return r }
        let r = grammar.add(n)
        ruleIndex[n] = r
        return r
    }

    private mutating func run() throws -> Grammar {
        _ = rule(named: "root")
        skipSpace()
        while i < s.count {
            guard let name = identifier() else { throw fail("expected a rule name") }
            skipSpace()
            guard take("::=") else { throw fail("expected ::= after \(name)") }
            guard defined.insert(name).inserted else { throw fail("rule \(name) is defined twice") }
            let r = rule(named: name)
            grammar.rules[r] = try alternatives(depth: 0)
            skipSpace()
        }
        for n in grammar.names where !defined.contains(n) {
            throw ConstraintError.invalid(path: "grammar", message: n == "root" ? "no root rule" : "rule \(n) is used but not defined")
        }
        return grammar
    }

    private mutating func skipSpace() {
        while i < s.count {
            if s[i].properties.isWhitespace { i += 1 } else if s[i] == "#" {
                while i < s.count && s[i] != "\n" { i += 1 }
            } else { break }
        }
    }

    private mutating func take(_ t: String) -> Bool {
        let u = Array(t.unicodeScalars)
        guard i + u.count <= s.count, Array(s[i..<i + u.count]) == u else { return false }
        i += u.count
        return true
    }

    private func isNameChar(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || c.properties.numericType != nil || c == "_" || c == "-")
    }

    private mutating func identifier() -> String? {
        let start = i
        while i < s.count && isNameChar(s[i]) { i += 1 }
        return i > start ? String(String.UnicodeScalarView(s[start..<i])) : nil
    }

    /// True if a `name ::=` starts here (the end of the current rule).
    private func atRuleStart() -> Bool {
        var j = i
        while j < s.count && isNameChar(s[j]) { j += 1 }
        guard j > i else { return false }
        while j < s.count && (s[j] == " " || s[j] == "\t" || s[j] == "\n" || s[j] == "\r") { j += 1 }
        return j + 2 < s.count && s[j] == ":" && s[j + 1] == ":" && s[j + 2] == "="
    }

    private mutating func alternatives(depth: Int) throws -> GExpr {
        guard depth < 100 else { throw fail("groups nested too deeply") }
        var alts: [GExpr] = []
        var items: [GExpr] = []
        while true {
            skipSpace()
            if i >= s.count || s[i] == ")" || (depth == 0 && atRuleStart()) { break }
            if s[i] == "|" {
                i += 1
                alts.append(items.count == 1 ? items[0] : .seq(items))
                items = []
                continue
            }
            items.append(try postfix(try element(depth: depth)))
        }
        alts.append(items.count == 1 ? items[0] : .seq(items))
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    private mutating func element(depth: Int) throws -> GExpr {
        let c = s[i]
        if c == "\"" {
            i += 1
            var text = ""
            while true {
                guard i < s.count else { throw fail("unterminated string") }
                if s[i] == "\"" { i += 1; break }
                if s[i] == "\\" {
                    i += 1
                    guard i < s.count else { throw fail("unterminated string") }
                    let e = s[i]
                    i += 1
                    switch e {
                    case "n": text += "\n"
                    case "t": text += "\t"
                    case "r": text += "\r"
                    case "x", "u":
                        let n = e == "x" ? 2 : 4
                        guard i + n <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<i + n])), radix: 16),
                              let u = Unicode.Scalar(v) else { throw fail("bad \\\(e) escape") }
                        text.unicodeScalars.append(u)
                        i += n
                    default: text.unicodeScalars.append(e)
                    }
                } else {
                    text.unicodeScalars.append(s[i])
                    i += 1
                }
            }
            return text.isEmpty ? .empty : .literal(text)
        }
        if c == "[" {
            var j = i + 1
            if j < s.count && s[j] == "^" { j += 1 }
            if j < s.count && s[j] == "]" { j += 1 }
            while j < s.count && s[j] != "]" { j += s[j] == "\\" ? 2 : 1 }
            guard j < s.count else { throw fail("unterminated character class") }
            let cls = String(String.UnicodeScalarView(s[i...j]))
            i = j + 1
            return try RegexParser.parse(cls, path: "grammar class \(cls)")
        }
        if c == "." { i += 1; return try RegexParser.parse(".", path: "grammar") }
        if c == "(" {
            i += 1
            let e = try alternatives(depth: depth + 1)
            guard i < s.count && s[i] == ")" else { throw fail("unterminated group") }
            i += 1
            return e
        }
        if c == "<" && i + 1 < s.count && s[i + 1] == "|" {
            let start = i
            while i < s.count && !(s[i] == ">" && s[i - 1] == "|") { i += 1 }
            guard i < s.count else { throw fail("unterminated token name") }
            i += 1
            let name = String(String.UnicodeScalarView(s[start..<i]))
            guard let id = addedTokens[name] else { throw ConstraintError.missingToken(name) }
            return .token(id)
        }
        if let name = identifier() { return .rule(rule(named: name)) }
        throw fail("unexpected '\(c)'")
    }

    private mutating func postfix(_ e: GExpr) throws -> GExpr {
        var e = e
        while i < s.count {
            switch s[i] {
            case "*": i += 1; e = .star(e)
            case "+": i += 1; e = .plus(e)
            case "?": i += 1; e = .opt(e)
            case "{":
                i += 1
                func num() -> Int? {
                    var v = 0, any = false
                    while i < s.count, s[i].isASCII, let d = Int(String(s[i])) { v = min(v * 10 + d, 1_000_000); any = true; i += 1 }
                    return any ? v : nil
                }
                guard let lo = num() else { throw fail("bad {m,n}") }
                var hi: Int? = lo
                if i < s.count && s[i] == "," { i += 1; hi = num() }
                guard i < s.count && s[i] == "}" else { throw fail("bad {m,n}") }
                i += 1
                if let h = hi, h < lo { throw fail("{m,n} with n < m") }
                e = .rep(e, min: lo, max: hi)
            default: return e
            }
        }
        return e
    }
}
