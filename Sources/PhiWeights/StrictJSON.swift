/// A JSON value as parsed by `StrictJSON`.
///
/// Numbers keep their source text so that integers beyond 2^53 (file offsets, element counts)
/// are never rounded through `Double`; ask for `intValue` or `doubleValue`.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The value as an `Int` when it is an integer literal (no fraction, no exponent) that fits.
    public var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        return StrictJSON.integer(fromLiteral: text)
    }

    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    public var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    public var boolValue: Bool? {
        guard case .bool(let b) = self else { return nil }
        return b
    }

    public var arrayValue: [JSONValue]? {
        guard case .array(let a) = self else { return nil }
        return a
    }

    public var objectValue: JSONObject? {
        guard case .object(let o) = self else { return nil }
        return o
    }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON object whose keys are unique (the parser rejects duplicates) and keep source order.
public struct JSONObject: Sendable, Equatable {
    /// Keys in the order they appear in the source.
    public let keys: [String]
    public let members: [String: JSONValue]

    public init(keys: [String], members: [String: JSONValue]) {
        self.keys = keys
        self.members = members
    }

    public subscript(key: String) -> JSONValue? { members[key] }
    public var count: Int { keys.count }
}

/// A small, strict RFC 8259 JSON parser for untrusted input (file headers, index files, configs).
///
/// Unlike Foundation's `JSONSerialization` it rejects duplicate object keys (which would let two
/// readers of the same file disagree), lone surrogates, invalid UTF-8, control characters in
/// strings and anything after the top-level value except whitespace. Nesting depth and input
/// size are bounded so hostile input cannot exhaust the stack or memory.
public enum StrictJSON {
    public struct Limits: Sendable {
        public var maxDepth: Int
        public var maxBytes: Int
        public init(maxDepth: Int = 64, maxBytes: Int = 100_000_000) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
        }
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        /// Byte offset in the input where the problem was found.
        public let offset: Int
        public let message: String
        public var description: String { "\(message) at byte \(offset)" }
    }

    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(ParseError) -> JSONValue {
        // withUnsafeBytes is not typed-throws; carry the typed error out in a Result.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ParseError) -> JSONValue in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(_ text: String, limits: Limits = Limits()) throws(ParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Parses exactly one JSON value surrounded by optional whitespace.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = Limits()) throws(ParseError) -> JSONValue {
        guard bytes.count <= limits.maxBytes else {
            throw ParseError(offset: 0, message: "JSON text of \(bytes.count) bytes exceeds the limit of \(limits.maxBytes) bytes")
        }
        if let bad = firstInvalidUTF8Offset(bytes) {
            throw ParseError(offset: bad, message: "invalid UTF-8")
        }
        var parser = Parser(bytes: bytes, limits: limits)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.fail("unexpected trailing characters after the JSON value") }
        return value
    }

    /// Returns the offset of the first byte that is not part of well-formed UTF-8, or nil.
    public static func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F // no UTF-16 surrogates
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return i
            }
            guard n - i > need else { return i }
            let b1 = bytes[i + 1]
            guard b1 >= lo && b1 <= hi else { return i }
            var k = 2
            while k <= need {
                let b = bytes[i + k]
                guard b >= 0x80 && b <= 0xBF else { return i }
                k += 1
            }
            i += need + 1
        }
        return nil
    }

    /// Parses an integer literal ("-12", "0") exactly; nil for fractions, exponents or overflow.
    public static func integer(fromLiteral text: String) -> Int? {
        var utf8 = Array(text.utf8)[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") { negative = true; utf8 = utf8.dropFirst() }
        guard !utf8.isEmpty else { return nil }
        var value = 0
        for c in utf8 {
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            let digit = Int(c - UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            guard !o1 else { return nil }
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o2 else { return nil }
            value = s
        }
        return value
    }

    /// Encodes a string as a JSON string literal (with quotes).
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    let limits: StrictJSON.Limits
    var pos = 0

    init(bytes: UnsafeRawBufferPointer, limits: StrictJSON.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    var atEnd: Bool { pos >= bytes.count }

    func fail(_ message: String) -> StrictJSON.ParseError {
        StrictJSON.ParseError(offset: pos, message: message)
    }

    func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(StrictJSON.ParseError) -> JSONValue {
        guard let c = peek() else { throw fail("unexpected end of input, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character '\(Self.printable(c))', expected a value")
        }
    }

    static func printable(_ c: UInt8) -> String {
        (0x20..<0x7F).contains(c) ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    mutating func expectLiteral(_ word: StaticString) throws(StrictJSON.ParseError) {
        let start = pos
        let n = word.utf8CodeUnitCount
        let p = word.utf8Start
        guard bytes.count - pos >= n else { throw fail("invalid literal") }
        for i in 0..<n where bytes[pos + i] != p[i] {
            pos = start
            throw fail("invalid literal")
        }
        pos += n
    }

    mutating func parseObject(depth: Int) throws(StrictJSON.ParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw fail("nesting deeper than \(limits.maxDepth)") }
        pos += 1 // '{'
        var keys: [String] = []
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(JSONObject(keys: keys, members: members)) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = pos
            let key = try parseString()
            guard members[key] == nil else {
                throw StrictJSON.ParseError(offset: keyOffset, message: "duplicate key \(StrictJSON.quote(key))")
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            keys.append(key)
            members[key] = value
            skipWhitespace()
            guard let c = peek() else { throw fail("unterminated object") }
            pos += 1
            if c == UInt8(ascii: "}") { return .object(JSONObject(keys: keys, members: members)) }
            guard c == UInt8(ascii: ",") else { pos -= 1; throw fail("expected ',' or '}' in object") }
        }
    }

    mutating func parseArray(depth: Int) throws(StrictJSON.ParseError) -> JSONValue {
        guard depth <= limits.maxDepth else { throw fail("nesting deeper than \(limits.maxDepth)") }
        pos += 1 // '['
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let c = peek() else { throw fail("unterminated array") }
            pos += 1
            if c == UInt8(ascii: "]") { return .array(items) }
            guard c == UInt8(ascii: ",") else { pos -= 1; throw fail("expected ',' or ']' in array") }
        }
    }

    mutating func parseNumber() throws(StrictJSON.ParseError) -> String {
        let start = pos
        func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(peek()) else { throw fail("invalid number") }
        if peek() == UInt8(ascii: "0") {
            pos += 1
            if isDigit(peek()) { throw fail("leading zeros are not allowed in numbers") }
        } else {
            while isDigit(peek()) { pos += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(peek()) else { throw fail("expected digits after the decimal point") }
            while isDigit(peek()) { pos += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(peek()) else { throw fail("expected digits in the exponent") }
            while isDigit(peek()) { pos += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    mutating func parseHex4() throws(StrictJSON.ParseError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    /// Parses a string starting at the opening quote. The input is already known to be valid UTF-8.
    mutating func parseString() throws(StrictJSON.ParseError) -> String {
        pos += 1 // opening quote
        var out: [UInt8] = []
        var runStart = pos
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw fail("unescaped control character in string") }
            if c != UInt8(ascii: "\\") { pos += 1; continue }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
            pos += 1
            guard pos < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired high surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("invalid low surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    throw fail("unpaired low surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                UTF8.encode(u) { out.append($0) }
            default:
                pos -= 1
                throw fail("invalid escape '\\\(Self.printable(e))'")
            }
            runStart = pos
        }
    }
}
