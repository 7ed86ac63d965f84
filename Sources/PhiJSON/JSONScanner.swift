/// What the scanner builds values with: `JSONValue` trees, or the Foundation-style values of `FoundationJSON`.
/// Both see the same grammar, limits and checks; only the representation differs.
protocol JSONTreeBuilder {
    associatedtype Value
    func null() -> Value
    func bool(_ b: Bool) -> Value
    /// `literal` is grammar-checked; `integral` is true when it has no fraction and no exponent.
    func number(_ literal: UnsafeRawBufferPointer, integral: Bool, offset: Int) throws(JSONParseError) -> Value
    func string(_ s: String) -> Value
    func array(_ items: [Value]) -> Value
    func object(keys: [String], values: [Value], index: JSONKeyIndex) -> Value
}

struct ValueBuilder: JSONTreeBuilder {
    func null() -> JSONValue { .null }
    func bool(_ b: Bool) -> JSONValue { .bool(b) }
    func number(_ literal: UnsafeRawBufferPointer, integral: Bool, offset: Int) throws(JSONParseError) -> JSONValue {
        .number(String(decoding: literal, as: UTF8.self))
    }
    func string(_ s: String) -> JSONValue { .string(s) }
    func array(_ items: [JSONValue]) -> JSONValue { .array(items) }
    func object(keys: [String], values: [JSONValue], index: JSONKeyIndex) -> JSONValue {
        .object(JSONObject(keys: keys, values: values, index: index))
    }
}

/// The recursive-descent core. Recursion depth is bounded by `maxDepth`, so hostile nesting cannot exhaust the
/// stack; UTF-8 is validated inside strings as they are read (outside strings only ASCII is legal anyway).
struct JSONScanner<Builder: JSONTreeBuilder> {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    let builder: Builder
    var pos = 0
    /// Reused for strings with escapes.
    private var scratch: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int, builder: Builder) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.builder = builder
    }

    var atEnd: Bool { pos >= bytes.count }

    func fail(_ message: String) -> JSONParseError { JSONParseError(offset: pos, message: message) }

    @inline(__always)
    func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> Builder.Value {
        guard let c = peek() else { throw fail("unexpected end of input, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return builder.string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return builder.bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return builder.bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return builder.null()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character '\(Self.printable(c))', expected a value")
        }
    }

    static func printable(_ c: UInt8) -> String {
        (0x20..<0x7F).contains(c) ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        let p = word.utf8Start
        guard bytes.count - pos >= n else { throw fail("invalid literal") }
        for i in 0..<n where bytes[pos + i] != p[i] { throw fail("invalid literal") }
        pos += n
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> Builder.Value {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        pos += 1  // '{'
        var keys: [String] = []
        var values: [Builder.Value] = []
        var index = JSONKeyIndex()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            pos += 1
            return builder.object(keys: keys, values: values, index: index)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = pos
            var key = try parseString()
            let earlier = key.withUTF8 { index.insert(UnsafeRawBufferPointer($0), at: keys.count, keys: keys) }
            if earlier != nil {
                throw JSONParseError(offset: keyOffset, message: "duplicate key \(JSONText.quote(key))")
            }
            keys.append(key)
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            pos += 1
            skipWhitespace()
            values.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let c = peek() else { throw fail("unterminated object") }
            if c == UInt8(ascii: "}") {
                pos += 1
                return builder.object(keys: keys, values: values, index: index)
            }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or '}' in object") }
            pos += 1
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> Builder.Value {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        pos += 1  // '['
        var items: [Builder.Value] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return builder.array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let c = peek() else { throw fail("unterminated array") }
            if c == UInt8(ascii: "]") { pos += 1; return builder.array(items) }
            guard c == UInt8(ascii: ",") else { throw fail("expected ',' or ']' in array") }
            pos += 1
        }
    }

    @inline(__always)
    private func isDigit(_ c: UInt8?) -> Bool { c.map { $0 &- UInt8(ascii: "0") < 10 } ?? false }

    mutating func parseNumber() throws(JSONParseError) -> Builder.Value {
        let start = pos
        var integral = true
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(peek()) else { throw fail("invalid number") }
        if peek() == UInt8(ascii: "0") {
            pos += 1
            if isDigit(peek()) { throw fail("leading zeros are not allowed in numbers") }
        } else {
            while isDigit(peek()) { pos += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            integral = false
            pos += 1
            guard isDigit(peek()) else { throw fail("expected digits after the decimal point") }
            while isDigit(peek()) { pos += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            pos += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(peek()) else { throw fail("expected digits in the exponent") }
            while isDigit(peek()) { pos += 1 }
        }
        return try builder.number(UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), integral: integral, offset: start)
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
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

    /// Parses a string starting at the opening quote.
    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes, so the string is a slice of the input.
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("unescaped control character in string") }
            if c < 0x80 {
                pos += 1
            } else {
                guard let length = JSONText.utf8SequenceLength(bytes, at: pos) else { throw fail("invalid UTF-8 in string") }
                pos += length
            }
        }
        guard pos < bytes.count else { throw fail("unterminated string") }
        return try parseEscapedString(from: start)
    }

    /// The rest of a string that has escapes: `bytes[start..<pos]` are plain, `pos` is at a backslash.
    private mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]))
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if c < 0x20 { throw fail("unescaped control character in string") }
            if c >= 0x80 {
                guard let length = JSONText.utf8SequenceLength(bytes, at: pos) else { throw fail("invalid UTF-8 in string") }
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[pos..<pos + length]))
                pos += length
                continue
            }
            if c != UInt8(ascii: "\\") {
                scratch.append(c)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                let escapeStart = pos - 2
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                        throw JSONParseError(offset: escapeStart, message: "unpaired high surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else {
                        throw JSONParseError(offset: escapeStart, message: "invalid low surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    throw JSONParseError(offset: escapeStart, message: "unpaired low surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                UTF8.encode(u) { scratch.append($0) }
            default:
                pos -= 1
                throw fail("invalid escape '\\\(Self.printable(e))'")
            }
        }
    }
}
