/// Per-scalar flags that the pre-tokenizer patterns need, looked up through a two-stage table.
///
/// Built once per process (about 30 ms) from `Unicode.Scalar.Properties`: planes 0-3 and 14 are computed,
/// planes 4-13, 15 and 16 hold only unassigned and private-use code points, which have no flag.
/// The storage is never freed, so the pointers can be read from any thread without retain/release.
struct UnicodeTable: @unchecked Sendable {
    /// `\p{L}` (Lu, Ll, Lt, Lm, Lo).
    static let letter: UInt8 = 1
    /// `\p{N}` (Nd, Nl, No), also Rust's `char::is_numeric`.
    static let number: UInt8 = 2
    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` (o200k's "upper" class).
    static let upper: UInt8 = 4
    /// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (o200k's "lower" class).
    static let lower: UInt8 = 8
    /// Unicode White_Space (Rust `char::is_whitespace`, Oniguruma and Rust-regex `\s`).
    static let whitespace: UInt8 = 16
    /// Rust `char::is_alphanumeric` or `_` (HF's word character for `single_word` added tokens).
    static let word: UInt8 = 32
    /// `\p{M}` (Mn, Mc, Me).
    static let mark: UInt8 = 64

    static let shared = UnicodeTable()

    private let stage1: UnsafeMutablePointer<UInt16>  // 0x1100 blocks of 256 scalars
    private let stage2: UnsafeMutablePointer<UInt8>

    private init() {
        let blockCount = 0x110000 >> 8
        stage1 = .allocate(capacity: blockCount)
        var blocks: [[UInt8]] = [[UInt8](repeating: 0, count: 256)]  // block 0 = all zero
        var index: [[UInt8]: UInt16] = [blocks[0]: 0]
        var block = [UInt8](repeating: 0, count: 256)
        for b in 0..<blockCount {
            let plane = b >> 8
            guard plane <= 3 || plane == 14 else { stage1[b] = 0; continue }
            for i in 0..<256 {
                block[i] = Self.computeFlags(UInt32(b << 8 | i))
            }
            if let existing = index[block] {
                stage1[b] = existing
            } else {
                let id = UInt16(blocks.count)
                blocks.append(block)
                index[block] = id
                stage1[b] = id
            }
        }
        stage2 = .allocate(capacity: blocks.count * 256)
        for (i, blk) in blocks.enumerated() {
            for j in 0..<256 { stage2[i * 256 + j] = blk[j] }
        }
    }

    @inline(__always)
    func flags(_ scalar: UInt32) -> UInt8 {
        guard scalar < 0x110000 else { return 0 }
        return stage2[Int(stage1[Int(scalar >> 8)]) << 8 | Int(scalar & 0xFF)]
    }

    private static func computeFlags(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        let p = scalar.properties
        var f: UInt8 = 0
        switch p.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: f = letter | upper
        case .lowercaseLetter: f = letter | lower
        case .modifierLetter, .otherLetter: f = letter | upper | lower
        case .nonspacingMark, .spacingMark, .enclosingMark: f = upper | lower | mark
        case .decimalNumber, .letterNumber, .otherNumber: f = number
        default: f = 0
        }
        if p.isWhitespace { f |= whitespace }
        if p.isAlphabetic || f & number != 0 || value == 0x5F { f |= word }
        return f
    }
}

/// Reads one scalar from valid UTF-8 at `i` (bounds-safe: a truncated sequence reads as U+FFFD of length 1).
@inline(__always)
func readScalar(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> (scalar: UInt32, length: Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 {
        guard b0 >= 0xC0, i + 1 < n else { return (0xFFFD, 1) }
        return ((b0 & 0x1F) << 6 | (UInt32(p[i + 1]) & 0x3F), 2)
    }
    if b0 < 0xF0 {
        guard i + 2 < n else { return (0xFFFD, 1) }
        return ((b0 & 0x0F) << 12 | (UInt32(p[i + 1]) & 0x3F) << 6 | (UInt32(p[i + 2]) & 0x3F), 3)
    }
    guard b0 < 0xF8, i + 3 < n else { return (0xFFFD, 1) }
    return ((b0 & 0x07) << 18 | (UInt32(p[i + 1]) & 0x3F) << 12 | (UInt32(p[i + 2]) & 0x3F) << 6
            | (UInt32(p[i + 3]) & 0x3F), 4)
}

/// Length of the scalar ending just before byte offset `end` (valid UTF-8 assumed, bounds-safe).
@inline(__always)
func previousScalarLength(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
    var k = end - 1
    while k > start && p[k] & 0xC0 == 0x80 && end - k < 4 { k -= 1 }
    return end - k
}
