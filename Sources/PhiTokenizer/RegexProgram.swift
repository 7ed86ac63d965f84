/// A tokenizer.json `Split` regex compiled for `RegexMatcher`'s Pike VM.
///
/// The syntax is the subset tokenizer patterns use (Oniguruma / Rust-regex style): literals and escapes
/// (`\t \n \r \f \v \e \0 \xHH \x{H..} \uHHHH`, escaped punctuation), `.`, classes `[...]` with ranges and
/// negation, `\p{..}` / `\P{..}` general categories (one- and two-letter and long names, `L&`, `Any`),
/// `\d \D \w \W \s \S`, groups `(...)` `(?:...)` `(?<name>...)`, the `i` flag (`(?i:...)`, `(?i)`), alternation,
/// greedy and lazy `* + ? {n} {n,} {n,m}`, anchors `^ $` (line, as in Oniguruma) `\A \z \Z \b \B`, and one-character
/// lookahead `(?=x)` `(?!x)` (`\s+(?!\S)`). Everything else (backreferences, lookbehind, longer lookaheads,
/// possessive or atomic groups, nested classes, scripts) is refused with a clear error rather than run on a
/// backtracking engine whose time can explode (issue 10: `(a+)+$`).
struct RegexProgram: Sendable {
    enum Assertion: Sendable, Equatable {
        case lineStart, lineEnd, textStart, textEnd, textEndOrFinalNewline, wordBoundary, notWordBoundary
        /// The next scalar is (or, negated, is not) in `sets[index]`; the end of the text counts as "not".
        case ahead(Int, negated: Bool)
    }

    enum Inst: Sendable {
        /// Consume one scalar in `sets[i]`.
        case set(Int)
        /// Continue at both; the first has priority (leftmost-first, as a backtracking engine tries it first).
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    var insts: [Inst] = []
    var sets: [RegexCharSet] = []

    /// Limits on what a tokenizer.json can ask for: the VM costs O(instructions) per input scalar.
    static let maxPatternScalars = 8192
    static let maxInstructions = 5000
    static let maxRepeat = 1000
    static let maxNesting = 64

    init(pattern: String) throws(RegexSyntaxError) {
        var parser = RegexParser(Array(pattern.unicodeScalars))
        guard parser.chars.count <= Self.maxPatternScalars else {
            throw RegexSyntaxError("longer than \(Self.maxPatternScalars) characters", at: 0)
        }
        let tree = try parser.parseAll()
        try emit(tree, sets: parser.sets)
        insts.append(.match)
        sets = parser.sets
    }

    private mutating func append(_ inst: Inst) throws(RegexSyntaxError) {
        guard insts.count < Self.maxInstructions else {
            throw RegexSyntaxError("compiles to more than \(Self.maxInstructions) instructions", at: 0)
        }
        insts.append(inst)
    }

    private mutating func emit(_ node: RegexNode, sets: [RegexCharSet]) throws(RegexSyntaxError) {
        switch node {
        case .empty:
            break
        case .set(let i):
            try append(.set(i))
        case .assert(let a):
            try append(.assert(a))
        case .concat(let items):
            for item in items { try emit(item, sets: sets) }
        case .alternation(let branches):
            var jumps: [Int] = []
            for (k, branch) in branches.enumerated() {
                if k == branches.count - 1 {
                    try emit(branch, sets: sets)
                } else {
                    let split = insts.count
                    try append(.split(split + 1, -1))
                    try emit(branch, sets: sets)
                    jumps.append(insts.count)
                    try append(.jump(-1))
                    insts[split] = .split(split + 1, insts.count)
                }
            }
            for j in jumps { insts[j] = .jump(insts.count) }
        case .repeated(let body, let min, let max, let greedy):
            for _ in 0..<min { try emit(body, sets: sets) }
            if let max {
                // x{min,max}: (max - min) nested optional copies, each skipping to the end.
                var exits: [Int] = []
                for _ in min..<max {
                    exits.append(insts.count)
                    try append(.split(-1, -1))
                    try emit(body, sets: sets)
                }
                let end = insts.count
                for e in exits { insts[e] = greedy ? .split(e + 1, end) : .split(end, e + 1) }
            } else {
                let loop = insts.count
                try append(.split(-1, -1))
                try emit(body, sets: sets)
                try append(.jump(loop))
                let end = insts.count
                insts[loop] = greedy ? .split(loop + 1, end) : .split(end, loop + 1)
            }
        }
    }
}

/// Why a pattern was refused, with the scalar offset where the parser stopped.
struct RegexSyntaxError: Error, CustomStringConvertible {
    let message: String
    let offset: Int
    init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }
    var description: String { "\(message) (at character \(offset))" }
}

indirect enum RegexNode: Sendable {
    case empty
    case set(Int)
    case assert(RegexProgram.Assertion)
    case concat([RegexNode])
    case alternation([RegexNode])
    case repeated(RegexNode, min: Int, max: Int?, greedy: Bool)
}

/// Recursive descent over the pattern's scalars; recursion depth is the group nesting, at most `maxNesting`.
struct RegexParser {
    let chars: [Unicode.Scalar]
    var i = 0
    var sets: [RegexCharSet] = []
    var caseInsensitive = false
    var depth = 0

    init(_ chars: [Unicode.Scalar]) { self.chars = chars }

    private var atEnd: Bool { i >= chars.count }
    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < chars.count ? chars[i + k] : nil }

    private func fail(_ message: String) -> RegexSyntaxError { RegexSyntaxError(message, at: i) }

    mutating func parseAll() throws(RegexSyntaxError) -> RegexNode {
        let node = try parseAlternation()
        guard atEnd else { throw fail("unmatched ')'") }
        return node
    }

    private mutating func addSet(_ s: RegexCharSet) -> RegexNode {
        if let k = sets.firstIndex(of: s) { return .set(k) }  // equality ignores the bitmap
        var s = s
        s.finish()
        sets.append(s)
        return .set(sets.count - 1)
    }

    private mutating func parseAlternation() throws(RegexSyntaxError) -> RegexNode {
        var branches = [try parseConcat()]
        while peek() == "|" {
            i += 1
            branches.append(try parseConcat())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcat() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), c != "|", c != ")" {
            if c == "(" && peek(1) == "?" && peek(2) == "i" && peek(3) == ")" {
                i += 4
                caseInsensitive = true  // to the end of the enclosing group
                continue
            }
            var atom = try parseAtom()
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return items.isEmpty ? .empty : items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func parseQuantifiers(_ atom: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        var node = atom
        while let c = peek() {
            var minimum = 0
            var maximum: Int?
            switch c {
            case "*": i += 1
            case "+": i += 1; minimum = 1
            case "?": i += 1; maximum = 1
            case "{":
                guard let (lo, hi, length) = interval() else { return node }
                // x{3,2}: Oniguruma and ICU refuse it too (the compiler would count from 3 up to 2).
                if let hi, hi < lo { throw fail("repeat maximum \(hi) is below its minimum \(lo)") }
                i += length
                minimum = lo
                maximum = hi
            default:
                return node
            }
            if case .assert = node { throw fail("quantifier after an assertion") }
            if case .empty = node { throw fail("nothing to repeat") }
            var greedy = true
            if peek() == "?" {
                i += 1
                greedy = false
            } else if peek() == "+" {
                throw fail("possessive quantifiers are not supported")
            }
            node = .repeated(node, min: minimum, max: maximum, greedy: greedy)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}` at `i` (nil when the brace is a literal, as in Oniguruma): bounds and length.
    private func interval() -> (Int, Int?, Int)? {
        var k = i + 1
        func number() -> Int? {
            var value: Int?
            while k < chars.count, let d = Int(String(chars[k])), chars[k].isASCII {
                value = min((value ?? 0) * 10 + d, RegexProgram.maxRepeat + 1)
                k += 1
            }
            return value
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if k < chars.count && chars[k] == "," {
            k += 1
            hi = number()
        }
        guard k < chars.count && chars[k] == "}" else { return nil }
        return (lo, hi, k + 1 - i)
    }

    private mutating func parseAtom() throws(RegexSyntaxError) -> RegexNode {
        guard let c = peek() else { throw fail("unexpected end") }
        switch c {
        case "(":
            return try parseGroup()
        case "[":
            return addSet(try parseClass())
        case ".":
            i += 1
            var s = RegexCharSet()
            s.add(.range(0x0A, 0x0A))
            s.negated = true
            return addSet(s)
        case "^":
            i += 1
            return .assert(.lineStart)
        case "$":
            i += 1
            return .assert(.lineEnd)
        case "\\":
            switch peek(1) {
            case "A": i += 2; return .assert(.textStart)
            case "z": i += 2; return .assert(.textEnd)
            case "Z": i += 2; return .assert(.textEndOrFinalNewline)
            case "b": i += 2; return .assert(.wordBoundary)
            case "B": i += 2; return .assert(.notWordBoundary)
            default: return addSet(try parseEscape(inClass: false))
            }
        case "*", "+", "?":
            throw fail("nothing to repeat")
        default:
            i += 1
            var s = RegexCharSet()
            s.add(.range(c.value, c.value))
            s.caseInsensitive = caseInsensitive
            return addSet(s)
        }
    }

    private mutating func parseGroup() throws(RegexSyntaxError) -> RegexNode {
        let open = i
        i += 1
        guard depth < RegexProgram.maxNesting else { throw fail("groups nested deeper than \(RegexProgram.maxNesting)") }
        let savedFlag = caseInsensitive
        defer { caseInsensitive = savedFlag }
        if peek() == "?" {
            i += 1
            switch peek() {
            case ":":
                i += 1
            case "=", "!":
                let negated = peek() == "!"
                i += 1
                guard let (set, length) = try singleScalarLookahead() else {
                    i = open
                    throw fail("lookahead other than one character class is not supported")
                }
                i += length
                return .assert(.ahead(set, negated: negated))
            case "<" where peek(1) != "=" && peek(1) != "!":
                try skipGroupName(close: ">")
            case "P" where peek(1) == "<":
                i += 1
                try skipGroupName(close: ">")
            case "i", "-":
                // (?i:...), (?-i:...), (?i-i:...)
                var on = true
                while let f = peek(), f != ":" {
                    switch f {
                    case "i": caseInsensitive = on
                    case "-": on = false
                    case ")": throw fail("inline flags are only supported as (?i) at group level or (?i:...)")
                    default: throw fail("unsupported inline flag '\(f)'")
                    }
                    i += 1
                }
                i += 1
            default:
                throw fail("unsupported group syntax '(?\(peek().map(String.init) ?? "")'")
            }
        }
        depth += 1
        let inner = try parseAlternation()
        depth -= 1
        guard peek() == ")" else { throw fail("missing ')'") }
        i += 1
        return inner
    }

    private mutating func skipGroupName(close: Unicode.Scalar) throws(RegexSyntaxError) {
        i += 1
        while let c = peek(), c != close {
            guard c.properties.isAlphabetic || c == "_" || (c.isASCII && Int(String(c)) != nil) else {
                throw fail("invalid group name")
            }
            i += 1
        }
        guard peek() == close else { throw fail("unterminated group name") }
        i += 1
    }

    /// The one-character body of a lookahead ending in `)`: its set index and the length including `)`.
    private mutating func singleScalarLookahead() throws(RegexSyntaxError) -> (Int, Int)? {
        let start = i
        defer { i = start }
        guard let c = peek(), c != ")", c != "(", c != "|" else { return nil }
        let node = try parseAtom()
        guard case .set(let k) = node, peek() == ")" else { return nil }
        return (k, i + 1 - start)
    }

    /// `\...` at `i`: a class escape (`\d`, `\p{L}`, ...) or one literal scalar, as a set.
    private mutating func parseEscape(inClass: Bool) throws(RegexSyntaxError) -> RegexCharSet {
        i += 1
        guard let e = peek() else { throw fail("pattern ends with a backslash") }
        i += 1
        var s = RegexCharSet()
        s.caseInsensitive = caseInsensitive
        switch e {
        case "d", "D":
            s.add(.categories(1 << 8))
            s.negated = e == "D"
        case "w", "W":
            s.add(.categories(GeneralCategoryTable.word))
            s.negated = e == "W"
        case "s", "S":
            s.add(.whitespace)
            s.negated = e == "S"
        case "p", "P":
            let (atom, negated) = try parseProperty()
            s.add(atom)
            s.negated = negated != (e == "P")
        default:
            guard let value = try escapedScalar(e) else {
                i -= 1
                throw fail("unsupported escape '\\\(e)'")
            }
            s.add(.range(value, value))
        }
        return s
    }

    /// The scalar an escape stands for (`\n`, `\x41`, `\.`), or nil for an escape this engine does not know.
    private mutating func escapedScalar(_ e: Unicode.Scalar) throws(RegexSyntaxError) -> UInt32? {
        switch e {
        case "t": return 0x09
        case "n": return 0x0A
        case "r": return 0x0D
        case "f": return 0x0C
        case "v": return 0x0B
        case "a": return 0x07
        case "e": return 0x1B
        case "0": return 0
        case "x":
            if peek() == "{" {
                i += 1
                let v = try hexDigits(max: 8, until: "}")
                return v
            }
            return try hexDigits(max: 2, until: nil)
        case "u":
            return try hexDigits(max: 4, until: nil, exactly: true)
        default:
            // Escaped punctuation and symbols stand for themselves; letters and digits are escapes we lack.
            if e.isASCII && (e.properties.isAlphabetic || Int(String(e)) != nil) { return nil }
            return e.value
        }
    }

    private mutating func hexDigits(max: Int, until close: Unicode.Scalar?, exactly: Bool = false) throws(RegexSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        var count = 0
        while count < max, let c = peek(), let d = c.isASCII ? UInt32(String(c), radix: 16) : nil {
            value = value << 4 | d
            count += 1
            i += 1
        }
        if let close {
            guard peek() == close else { throw fail("unterminated \\x{...}") }
            i += 1
        }
        guard count > 0, !exactly || count == max else { throw fail("invalid hexadecimal escape") }
        guard value < 0x110000, !(0xD800...0xDFFF).contains(value) else { throw fail("escape is not a Unicode scalar") }
        return value
    }

    /// `\p{...}` / `\pL` after the `p`: the atom and whether `{^...}` negated it.
    private mutating func parseProperty() throws(RegexSyntaxError) -> (RegexCharSet.Atom, Bool) {
        var name = ""
        if peek() == "{" {
            i += 1
            while let c = peek(), c != "}" {
                name.unicodeScalars.append(c)
                i += 1
            }
            guard peek() == "}" else { throw fail("unterminated \\p{...}") }
            i += 1
        } else if let c = peek() {
            name = String(c)
            i += 1
        }
        var negated = false
        if name.hasPrefix("^") {
            negated = true
            name.removeFirst()
        }
        guard let atom = Self.property(name) else { throw fail("unsupported Unicode property '\(name)'") }
        return (atom, negated)
    }

    static func property(_ raw: String) -> RegexCharSet.Atom? {
        let key = raw.lowercased().filter { $0 != "_" && $0 != " " && $0 != "-" }
        typealias T = GeneralCategoryTable
        let single: [String: Int] = [
            "lu": 0, "uppercaseletter": 0, "ll": 1, "lowercaseletter": 1, "lt": 2, "titlecaseletter": 2,
            "lm": 3, "modifierletter": 3, "lo": 4, "otherletter": 4, "mn": 5, "nonspacingmark": 5,
            "mc": 6, "spacingmark": 6, "me": 7, "enclosingmark": 7, "nd": 8, "decimalnumber": 8, "digit": 8,
            "nl": 9, "letternumber": 9, "no": 10, "othernumber": 10, "pc": 11, "connectorpunctuation": 11,
            "pd": 12, "dashpunctuation": 12, "ps": 13, "openpunctuation": 13, "pe": 14, "closepunctuation": 14,
            "pi": 15, "initialpunctuation": 15, "pf": 16, "finalpunctuation": 16, "po": 17, "otherpunctuation": 17,
            "sm": 18, "mathsymbol": 18, "sc": 19, "currencysymbol": 19, "sk": 20, "modifiersymbol": 20,
            "so": 21, "othersymbol": 21, "zs": 22, "spaceseparator": 22, "zl": 23, "lineseparator": 23,
            "zp": 24, "paragraphseparator": 24, "cc": 25, "control": 25, "cf": 26, "format": 26,
            "cs": 27, "surrogate": 27, "co": 28, "privateuse": 28, "cn": 29, "unassigned": 29,
        ]
        if let k = single[key] { return .categories(1 << UInt32(k)) }
        switch key {
        case "l", "letter": return .categories(T.letters)
        case "l&", "lc", "casedletter": return .categories(0b111)
        case "m", "mark", "combiningmark": return .categories(T.marks)
        case "n", "number": return .categories(T.numbers)
        case "p", "punctuation", "punct": return .categories(T.punctuation)
        case "s", "symbol": return .categories(T.symbols)
        case "z", "separator": return .categories(T.separators)
        case "c", "other": return .categories(T.others)
        case "any": return .any
        case "whitespace", "space": return .whitespace
        default: return nil
        }
    }

    /// `[...]` at `i`.
    private mutating func parseClass() throws(RegexSyntaxError) -> RegexCharSet {
        i += 1
        var s = RegexCharSet()
        s.caseInsensitive = caseInsensitive
        if peek() == "^" {
            s.negated = true
            i += 1
        }
        var first = true
        while true {
            guard let c = peek() else { throw fail("missing ']'") }
            if c == "]" && !first { break }
            first = false
            if c == "[" { throw fail("nested classes and POSIX brackets are not supported") }
            if c == "&" && peek(1) == "&" { throw fail("class intersection is not supported") }
            // One element: a class escape (merged), or a scalar that may start a range.
            let low: UInt32
            if c == "\\" {
                let element = try parseEscape(inClass: true)
                guard element.atoms.count == 1, !element.negated, case .range(let a, let b) = element.atoms[0].atom, a == b else {
                    s.add(contentsOf: element)
                    continue
                }
                low = a
            } else {
                low = c.value
                i += 1
            }
            if peek() == "-", let next = peek(1), next != "]" {
                i += 1
                let high: UInt32
                if next == "\\" {
                    let element = try parseEscape(inClass: true)
                    guard element.atoms.count == 1, !element.negated, case .range(let a, let b) = element.atoms[0].atom, a == b else {
                        throw fail("a range must end in a single character")
                    }
                    high = a
                } else if next == "[" {
                    throw fail("nested classes are not supported")
                } else {
                    high = next.value
                    i += 1
                }
                guard low <= high else { throw fail("range out of order") }
                s.add(.range(low, high))
            } else {
                s.add(.range(low, low))
            }
        }
        i += 1
        return s
    }
}
