import Foundation

/// The recursive-descent core. Recursion depth is bounded by `maxDepth`, so hostile nesting cannot exhaust the
/// stack; UTF-8 is validated inside strings as they are read (outside strings only ASCII is legal anyway).
struct JSONScanner<Builder: JSONTreeBuilder> {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    let builder: Builder
    var pos = 0
    /// Reused for strings with escapes.
    private var scratch: [UInt8] = []
    /// Whether the last string parsed had no escapes, so its bytes are the input's (keys hash those directly).
    private var lastStringWasRaw = false

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
        // Offsets of keys past the linear-search ones, to report a duplicate found when the object is sealed.
        var keyOffsets: [Int] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            pos += 1
            return builder.object(keys: keys, values: values, index: index)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = pos
            guard keys.count < JSONKeyIndex.maxMembers else { throw fail("object has more than \(JSONKeyIndex.maxMembers) members") }
            var key = try parseString()
            let earlier = lastStringWasRaw
                ? index.add(UnsafeRawBufferPointer(rebasing: bytes[keyOffset + 1..<pos - 1]), at: keys.count, keys: keys)
                : key.withUTF8 { index.add(UnsafeRawBufferPointer($0), at: keys.count, keys: keys) }
            if earlier != nil {
                throw JSONParseError(offset: keyOffset, message: "duplicate key \(JSONText.quote(key))")
            }
            if keys.count >= JSONKeyIndex.linearLimit { keyOffsets.append(keyOffset) }
            keys.append(key)
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            pos += 1
            skipWhitespace()
            values.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let c = peek() else { throw fail("unterminated object") }
            if c == UInt8(ascii: "}") {
                if let d = index.seal(keys: keys) {
                    throw JSONParseError(offset: keyOffsets[d - JSONKeyIndex.linearLimit], message: "duplicate key \(JSONText.quote(keys[d]))")
                }
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
        var negative = false
        var value = 0
        if peek() == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard isDigit(peek()) else { throw fail("invalid number") }
        let digitsStart = pos
        if peek() == UInt8(ascii: "0") {
            pos += 1
            if isDigit(peek()) { throw fail("leading zeros are not allowed in numbers") }
        } else {
            // Accumulates with wrapping arithmetic; the value is used only when there are at most 18 digits.
            while pos < bytes.count, case let d = bytes[pos] &- UInt8(ascii: "0"), d < 10 {
                value = value &* 10 &+ Int(d)
                pos += 1
            }
        }
        let digits = pos - digitsStart
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
        let small = integral && digits <= 18 ? (negative ? -value : value) : nil
        return try builder.number(UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), smallInteger: small, offset: start)
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
        lastStringWasRaw = true
        // Fast path: no escapes, so the string is a slice of the input. Eight bytes at a time while none is a
        // quote, a backslash or a control character.
        var seen: UInt64 = 0  // OR of every byte: bit 7 set when the string is not plain ASCII
        while bytes.count - pos >= 8 {
            let w = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
            let special = Self.specialBytes(w)
            if special == 0 {
                seen |= w
                pos += 8
                continue
            }
            // Skip to the first special byte; the byte loop below deals with it.
            let k = special.trailingZeroBitCount >> 3
            seen |= w & ((1 << UInt64(k * 8)) &- 1)
            pos += k
            break
        }
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<pos])
                var s = String(decoding: slice, as: UTF8.self)
                // String(decoding:) repairs invalid UTF-8 with U+FFFD; the result is the input byte for byte
                // exactly when the input was valid (one validation pass, the standard library's).
                if seen & 0x8080_8080_8080_8080 != 0 && !s.withUTF8({ Self.same($0, slice) }) {
                    throw JSONParseError(offset: start + (JSONText.firstInvalidUTF8Offset(slice) ?? 0), message: "invalid UTF-8 in string")
                }
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw failInString(from: start, "unescaped control character in string") }
            seen |= UInt64(c)
            pos += 1
        }
        guard pos < bytes.count else { throw failInString(from: start, "unterminated string") }
        lastStringWasRaw = false
        // Escapes: the part before is copied as it is, so validate it here.
        if let bad = JSONText.firstInvalidUTF8Offset(UnsafeRawBufferPointer(rebasing: bytes[start..<pos])) {
            throw JSONParseError(offset: start + bad, message: "invalid UTF-8 in string")
        }
        return try parseEscapedString(from: start)
    }

    /// An error inside a string whose bytes so far were not validated yet: invalid UTF-8 before `pos` comes first.
    func failInString(from start: Int, _ message: String) -> JSONParseError {
        if let bad = JSONText.firstInvalidUTF8Offset(UnsafeRawBufferPointer(rebasing: bytes[start..<pos])) {
            return JSONParseError(offset: start + bad, message: "invalid UTF-8 in string")
        }
        return fail(message)
    }

    /// Byte equality, inlined: most strings are a few bytes, where a call to memcmp costs more than the compare.
    @inline(__always)
    static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeRawBufferPointer) -> Bool {
        let n = a.count
        guard n == b.count else { return false }
        guard n > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return true }
        let ra = UnsafeRawPointer(pa)
        var i = 0
        while n - i >= 8 {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != pb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if pa[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Bit 7 of each byte of the result is set exactly where `w` (little-endian) has a quote, a backslash or an
    /// ASCII control character.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { ~(((x & low7) &+ low7) | x | low7) }
        return zeroBytes(w ^ 0x2222_2222_2222_2222) | zeroBytes(w ^ 0x5C5C_5C5C_5C5C_5C5C)
            | zeroBytes(w & 0xE0E0_E0E0_E0E0_E0E0)
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
