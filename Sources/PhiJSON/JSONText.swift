/// Small helpers for JSON text that readers and writers of other formats share (safetensors headers, .npy headers,
/// GGUF strings, error messages).
public enum JSONText {
    /// Encodes a string as a JSON string literal (with quotes), escaping as Python's `json.dumps(ensure_ascii=False)`
    /// does: the two-character escapes where JSON has one, `\u00XX` for the other control characters.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
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

    /// Returns the offset of the first byte that is not part of well-formed UTF-8, or nil.
    public static func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            if bytes[i] < 0x80 { i += 1; continue }
            guard let length = utf8SequenceLength(bytes, at: i) else { return i }
            i += length
        }
        return nil
    }

    public static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { firstInvalidUTF8Offset($0) }
    }

    /// The length of the well-formed multi-byte UTF-8 sequence starting at `i` (whose first byte is >= 0x80), or
    /// nil when it is malformed, overlong, a UTF-16 surrogate, beyond U+10FFFF or truncated.
    @inline(__always)
    static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        let b0 = bytes[i]
        let need: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F  // no UTF-16 surrogates
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return nil
        }
        guard bytes.count - i > need else { return nil }
        let b1 = bytes[i + 1]
        guard b1 >= lo && b1 <= hi else { return nil }
        var k = 2
        while k <= need {
            let b = bytes[i + k]
            guard b >= 0x80 && b <= 0xBF else { return nil }
            k += 1
        }
        return need + 1
    }
}
