import Foundation

/// A small, strict JSON parser producing Foundation-style values (`[String: Any]`, `[Any]`, `String`, `Int`,
/// `Double`, `Bool`, `NSNull`).
///
/// Used instead of `JSONSerialization` because (a) it is several times faster on a 7 MB tokenizer.json and
/// (b) Foundation on Linux drops a raw U+FEFF at the start of a string or after an escape sequence.
/// Errors carry the byte offset; nesting is limited so hostile input cannot overflow the stack.
/// A large JSON object, in file order.
struct JSONMembers {
    var members: [(String, Any)]
}

struct JSONReader {
    struct Failure: Error, CustomStringConvertible {
        let message: String
        let offset: Int
        var description: String { "\(message) at byte \(offset)" }
    }

    static let maxDepth = 256

    private let p: UnsafePointer<UInt8>
    private let n: Int
    private var i = 0
    private var depth = 0

    private init(_ p: UnsafePointer<UInt8>, _ n: Int) {
        self.p = p
        self.n = n
    }

    static func parse(_ data: Data) throws -> Any {
        try data.withUnsafeBytes { raw -> Any in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress, raw.count > 0 else {
                throw Failure(message: "empty input", offset: 0)
            }
            var reader = JSONReader(base, raw.count)
            if raw.count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { reader.i = 3 }  // file BOM
            let value = try reader.value()
            reader.skipSpace()
            guard reader.i == reader.n else { throw Failure(message: "unexpected data after the JSON value", offset: reader.i) }
            return value
        }
    }

    private mutating func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

    @inline(__always)
    private mutating func skipSpace() {
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    private mutating func value() throws -> Any {
        skipSpace()
        guard i < n else { throw fail("unexpected end of input") }
        switch p[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        case UInt8(ascii: "n"): try literal("null"); return NSNull()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard i + count <= n, memcmp(p + i, word.utf8Start, count) == 0 else { throw fail("invalid literal") }
        i += count
    }

    /// Objects with more members than this stay an ordered `JSONMembers` list (a 200k-entry vocab is much cheaper
    /// to build and iterate that way); smaller ones become `[String: Any]` (duplicate keys: the last one wins).
    static let dictionaryLimit = 4096

    private mutating func object() throws -> Any {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        defer { depth -= 1 }
        i += 1
        var members: [(String, Any)] = []
        skipSpace()
        if i < n && p[i] == UInt8(ascii: "}") {
            i += 1
            return [String: Any]()
        }
        while true {
            skipSpace()
            guard i < n, p[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipSpace()
            guard i < n, p[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            members.append((key, try value()))
            skipSpace()
            guard i < n else { throw fail("unterminated object") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            if members.count > Self.dictionaryLimit { return JSONMembers(members: members) }
            return Dictionary(members, uniquingKeysWith: { _, last in last })
        }
    }

    private mutating func array() throws -> [Any] {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        defer { depth -= 1 }
        i += 1
        var result: [Any] = []
        skipSpace()
        if i < n && p[i] == UInt8(ascii: "]") {
            i += 1
            return result
        }
        while true {
            result.append(try value())
            skipSpace()
            guard i < n else { throw fail("unterminated array") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard p[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            i += 1
            return result
        }
    }

    private mutating func string() throws -> String {
        i += 1
        let start = i
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        // Slow path with escapes.
        var bytes = [UInt8](UnsafeBufferPointer(start: p + start, count: i - start))
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 { throw fail("control character in string") }
            guard c == UInt8(ascii: "\\") else {
                bytes.append(c)
                i += 1
                continue
            }
            guard i + 1 < n else { break }
            let e = p[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code), i + 1 < n, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"  // lone surrogates
                bytes.append(contentsOf: String(scalar).utf8)
            default:
                throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= n else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = p[i + k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 0x41 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
        }
        i += 4
        return v
    }

    private mutating func number() throws -> Any {
        let start = i
        if p[i] == UInt8(ascii: "-") { i += 1 }
        var integral = true
        let digitsStart = i
        while i < n && p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
        guard i > digitsStart else { throw fail("invalid number") }
        if i < n && p[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            let f = i
            while i < n && p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
            guard i > f else { throw fail("invalid number") }
        }
        if i < n && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            integral = false
            i += 1
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            let f = i
            while i < n && p[i] >= 0x30 && p[i] <= 0x39 { i += 1 }
            guard i > f else { throw fail("invalid number") }
        }
        let text = String(decoding: UnsafeBufferPointer(start: p + start, count: i - start), as: UTF8.self)
        if integral, i - digitsStart <= 18, let v = Int(text) { return v }
        guard let d = Double(text) else { throw fail("invalid number") }
        return d
    }
}
