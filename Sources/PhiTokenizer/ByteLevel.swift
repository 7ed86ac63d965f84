/// GPT-2 `bytes_to_unicode`: the reversible byte <-> character mapping of byte-level BPE.
///
/// The bytes `!`..`~`, `¡`..`¬` and `®`..`ÿ` map to the same code point; the remaining 68 bytes map, in increasing
/// order, to U+0100, U+0101, ... (space -> `Ġ`, newline -> `Ċ`).
enum ByteLevel {
    /// `scalarForByte[b]` is the code point that stands for byte `b`.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse map for code points below 0x144 (all mapped characters live there); -1 where unmapped.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// Bytes of a byte-level string, or nil if some character is not a byte-level character.
    static func bytes(of string: String) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(string.unicodeScalars.count)
        for s in string.unicodeScalars {
            let v = Int(s.value)
            guard v < byteForScalar.count else { return nil }
            let b = byteForScalar[v]
            guard b >= 0 else { return nil }
            out.append(UInt8(b))
        }
        return out
    }

    /// Replaces `buffer` with the bytes of a byte-level string; false (buffer unspecified) if some character is
    /// not a byte-level character. Allocation-free once `buffer` has grown.
    static func decode(_ string: String, into buffer: inout [UInt8]) -> Bool {
        buffer.removeAll(keepingCapacity: true)
        return append(string, to: &buffer)
    }

    /// Appends the bytes of a byte-level string to `buffer`; false if some character is not byte-level.
    static func append(_ string: String, to buffer: inout [UInt8]) -> Bool {
        for s in string.unicodeScalars {
            let v = Int(s.value)
            guard v < byteForScalar.count else { return false }
            let b = byteForScalar[v]
            guard b >= 0 else { return false }
            buffer.append(UInt8(truncatingIfNeeded: b))
        }
        return true
    }

    /// What the HF ByteLevel decoder produces for one token string: the mapped bytes when every character is a
    /// byte-level character, otherwise the token's own UTF-8 bytes.
    static func decodedBytes(of token: String) -> [UInt8] {
        bytes(of: token) ?? Array(token.utf8)
    }

    /// The byte-level string for raw bytes (used to build vocab strings from raw token bytes).
    static func string(for bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes {
            if let u = Unicode.Scalar(scalarForByte[Int(b)]) { s.append(u) }
        }
        return String(s)
    }
}
