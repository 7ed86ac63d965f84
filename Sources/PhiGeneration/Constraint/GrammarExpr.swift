/// A set of bytes (256 bits).
struct ByteSet: Hashable, Sendable {
    var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: ByteSet, b: ByteSet) -> Bool { a.w == b.w }
    func hash(into h: inout Hasher) { h.combine(w.0); h.combine(w.1); h.combine(w.2); h.combine(w.3) }

    init() {}
    init(_ b: UInt8) { insert(b) }
    init(_ r: ClosedRange<UInt8>) { for b in r { insert(b) } }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: w.0 |= bit
        case 1: w.1 |= bit
        case 2: w.2 |= bit
        default: w.3 |= bit
        }
    }

    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return w.0 & bit != 0
        case 1: return w.1 & bit != 0
        case 2: return w.2 & bit != 0
        default: return w.3 & bit != 0
        }
    }

    var isEmpty: Bool { w.0 | w.1 | w.2 | w.3 == 0 }
    func union(_ o: ByteSet) -> ByteSet { var r = self; r.w = (w.0 | o.w.0, w.1 | o.w.1, w.2 | o.w.2, w.3 | o.w.3); return r }
    func subtracting(_ o: ByteSet) -> ByteSet {
        var r = self; r.w = (w.0 & ~o.w.0, w.1 & ~o.w.1, w.2 & ~o.w.2, w.3 & ~o.w.3); return r
    }
}

/// A grammar expression over bytes. Text is UTF-8 bytes; Unicode classes are compiled to byte sequences, so the
/// automaton (and the mask) handles tokens that end inside a multi-byte character.
indirect enum GExpr: Sendable {
    /// Matches nothing (an unsatisfiable alternative).
    case never
    case empty
    /// One byte from the set.
    case byte(ByteSet)
    case seq([GExpr])
    case alt([GExpr])
    /// `min` to `max` (nil: unbounded) repetitions.
    case rep(GExpr, min: Int, max: Int?)
    /// A reference to another rule of the grammar.
    case rule(Int)
    /// An added token (by id), matched as a whole token.
    case token(Int)

    static func literal(_ s: String) -> GExpr { bytes(Array(s.utf8)) }
    static func bytes(_ b: [UInt8]) -> GExpr { b.count == 1 ? .byte(ByteSet(b[0])) : .seq(b.map { .byte(ByteSet($0)) }) }
    static func opt(_ e: GExpr) -> GExpr { .rep(e, min: 0, max: 1) }
    static func star(_ e: GExpr) -> GExpr { .rep(e, min: 0, max: nil) }
    static func plus(_ e: GExpr) -> GExpr { .rep(e, min: 1, max: nil) }
    static func oneOf(_ s: String) -> GExpr {
        var set = ByteSet()
        for b in s.utf8 { set.insert(b) }
        return .byte(set)
    }
}

/// Named rules; rule 0 is the start.
struct Grammar: Sendable {
    var rules: [GExpr] = []
    var names: [String] = []

    mutating func add(_ name: String, _ e: GExpr = .never) -> Int {
        rules.append(e)
        names.append(name)
        return rules.count - 1
    }
}

/// Unicode scalar ranges as UTF-8 byte-sequence alternatives (surrogates excluded).
enum UTF8Ranges {
    static func expr(_ ranges: [ClosedRange<UInt32>]) -> GExpr {
        var alts: [GExpr] = []
        for r in ranges {
            for piece in split(r) { alts += sequences(piece.lowerBound, piece.upperBound) }
        }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// Any scalar except those in `excluded` (which must be sorted, non-overlapping).
    static func complement(_ excluded: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in excluded.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = max(next, r.upperBound &+ 1)
            if r.upperBound >= 0x10FFFF { return out }
        }
        if next <= 0x10FFFF { out.append(next...0x10FFFF) }
        return out
    }

    /// Normalizes ranges: sorted, merged.
    static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Splits at encoding-length boundaries and around the surrogates.
    private static func split(_ r: ClosedRange<UInt32>) -> [ClosedRange<UInt32>] {
        let bounds: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        var out: [ClosedRange<UInt32>] = []
        for b in bounds {
            let lo = max(b.lowerBound, r.lowerBound), hi = min(b.upperBound, r.upperBound)
            if lo <= hi { out.append(lo...hi) }
        }
        return out
    }

    private static func encode(_ v: UInt32) -> [UInt8] {
        Array(String(Unicode.Scalar(v).map { Character($0) } ?? " ").utf8)
    }

    /// Byte sequences for scalars lo...hi of one encoded length (the utf8-ranges construction).
    private static func sequences(_ lo: UInt32, _ hi: UInt32) -> [GExpr] {
        let a = encode(lo), b = encode(hi)
        guard a.count == b.count else { return [] }
        return rangeSeq(a, b)
    }

    /// All byte strings s with a <= s <= b (same length, each position after the first a continuation byte).
    private static func rangeSeq(_ a: [UInt8], _ b: [UInt8]) -> [GExpr] {
        let n = a.count
        if n == 1 { return [.byte(ByteSet(a[0]...b[0]))] }
        if a[0] == b[0] {
            return rangeSeq(Array(a[1...]), Array(b[1...])).map { .seq([.byte(ByteSet(a[0])), $0]) }
        }
        let minTail = [UInt8](repeating: 0x80, count: n - 1), maxTail = [UInt8](repeating: 0xBF, count: n - 1)
        var out: [GExpr] = []
        var first = a[0], last = b[0]
        if Array(a[1...]) != minTail {
            out += rangeSeq(Array(a[1...]), maxTail).map { .seq([.byte(ByteSet(a[0])), $0]) }
            first += 1
        }
        var tailHigh: [GExpr] = []
        if Array(b[1...]) != maxTail {
            tailHigh = rangeSeq(minTail, Array(b[1...])).map { .seq([.byte(ByteSet(b[0])), $0]) }
            last -= 1
        }
        if first <= last {
            out.append(.seq([.byte(ByteSet(first...last))] + (0..<(n - 1)).map { _ in .byte(ByteSet(0x80...0xBF)) }))
        }
        return out + tailHigh
    }
}
