/// JSON numbers between bounds (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`) as grammar.
///
/// Outputs keep the shapes `JSONSchemaCompiler` writes for unbounded numbers: an integer part of at most 16 digits
/// without leading zeros and, for `number`, an optional fraction of at most 16 digits. A bounded `number` has no
/// exponent, so an output's value is its digits and the bound check is exact (no rounding anywhere). Integers take
/// any finite bound (rounded inward); numbers take whole-number bounds, which covers what schemas usually say
/// (`minimum: 0`, `exclusiveMinimum: 0`, `0…1`, `1…100`).
struct NumericRange {
    /// A bound and whether the bound itself is allowed. Values are whole numbers, clamped to ±(`limit` + 1) so a
    /// bound beyond what the grammar can write still orders correctly.
    struct Bound: Equatable {
        var value: Int64
        var inclusive: Bool
    }

    var lower: Bound?
    var upper: Bound?

    /// Largest integer part written: 16 digits.
    static let limit: Int64 = 9_999_999_999_999_999

    static let digit = JSONSchemaCompiler.digit

    /// A JSON bound value as a whole number: exact for integer text, else `value` rounded toward `rounding`, clamped.
    static func whole(text: String, value: Double, rounding: FloatingPointRoundingRule) -> Int64 {
        if let i = Int64(text) { return min(max(i, -(limit + 1)), limit + 1) }
        let d = value.rounded(rounding)
        if d >= 1e16 { return limit + 1 }
        if d <= -1e16 { return -(limit + 1) }
        return Int64(d)
    }

    /// The integers in the range as decimal text (`-` then a magnitude for negatives; no `-0`); nil when there are none.
    func integers() -> GExpr? {
        var lo = -Self.limit, hi = Self.limit
        if let l = lower { lo = max(lo, l.inclusive ? l.value : l.value + 1) }
        if let u = upper { hi = min(hi, u.inclusive ? u.value : u.value - 1) }
        guard lo <= hi else { return nil }
        var alts: [GExpr] = []
        if lo < 0 { alts.append(.seq([.literal("-"), Self.digits(hi < 0 ? -hi : 1, -lo)])) }
        if hi >= 0 { alts.append(Self.digits(max(0, lo), hi)) }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// The numbers in the range (integer part, optional fraction, no exponent); nil when there are none.
    func numbers() -> GExpr? {
        var alts: [GExpr] = []
        // x ≥ 0: magnitudes from the lower bound (or 0) up to the upper bound.
        if upper.map({ $0.value > 0 || ($0.value == 0 && $0.inclusive) }) ?? true {
            let from = lower.flatMap { $0.value >= 0 ? $0 : nil } ?? Bound(value: 0, inclusive: true)
            if let m = Self.magnitudes(from: from, to: upper) { alts.append(m) }
        }
        // x < 0, written "-m" with m > 0: x ≥ lower is m ≤ -lower, x ≤ upper (< 0) is m ≥ -upper.
        if lower.map({ $0.value < 0 }) ?? true {
            let from = upper.flatMap { $0.value < 0 ? Bound(value: -$0.value, inclusive: $0.inclusive) : nil }
                ?? Bound(value: 0, inclusive: false)
            let to = lower.map { Bound(value: -$0.value, inclusive: $0.inclusive) }
            if let m = Self.magnitudes(from: from, to: to) { alts.append(.seq([.literal("-"), m])) }
        }
        if alts.isEmpty { return nil }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// Unsigned decimals m (integer part, optional fraction) with `from` ≤ m ≤ `to` (each bound exclusive if so
    /// marked; `to` nil: no upper bound); `from.value` ≥ 0.
    static func magnitudes(from a: Bound, to bound: Bound?) -> GExpr? {
        guard a.value <= limit else { return nil }
        let b = bound.flatMap { $0.value > limit ? nil : $0 }  // beyond 16 digits: every written number is below it
        let anyFraction = GExpr.opt(.seq([.literal("."), .rep(digit, min: 1, max: 16)]))
        let zeroFraction = GExpr.opt(.seq([.literal("."), .rep(.literal("0"), min: 1, max: 16)]))
        // a fraction that is not all zeros: k leading zeros, a non-zero digit, then any digits up to 16 in all
        let positiveFraction = GExpr.seq([.literal("."), .alt((0..<16).map { k in
            .seq([.rep(.literal("0"), min: k, max: k), .byte(ByteSet(0x31...0x39)), .rep(digit, min: 0, max: 15 - k)])
        })])
        if let b {
            if b.value < a.value { return nil }
            if b.value == a.value {  // only the bound itself, written with a zero fraction
                return a.inclusive && b.inclusive ? .seq([.literal(String(a.value)), zeroFraction]) : nil
            }
        }
        // integer part a: any fraction if a is allowed, else one above zero; then whole parts strictly between;
        // then the upper bound itself (zero fraction) if allowed.
        var alts: [GExpr] = [.seq([.literal(String(a.value)), a.inclusive ? anyFraction : positiveFraction])]
        let middleTop = b.map { $0.value - 1 } ?? limit
        if a.value + 1 <= middleTop { alts.append(.seq([digits(a.value + 1, middleTop), anyFraction])) }
        if let b, b.inclusive { alts.append(.seq([.literal(String(b.value)), zeroFraction])) }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// Decimal text (no leading zeros) of the integers a…b, 0 ≤ a ≤ b ≤ `limit`: one fixed-width range per digit count.
    static func digits(_ a: Int64, _ b: Int64) -> GExpr {
        var alts: [GExpr] = []
        var lo = a
        while true {
            let width = String(lo).utf8.count
            var top: Int64 = 9
            for _ in 1..<width { top = top * 10 + 9 }  // 10^width − 1, at most `limit`
            let hi = min(b, top)
            alts.append(fixedWidth(ArraySlice(String(lo).utf8), ArraySlice(String(hi).utf8)))
            if hi == b { break }
            lo = hi + 1
        }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    /// Digit strings of one width from `x` to `y` (x ≤ y): shared leading digits, then the low end, whole middle
    /// digits, and the high end.
    static func fixedWidth(_ x: ArraySlice<UInt8>, _ y: ArraySlice<UInt8>) -> GExpr {
        guard let x0 = x.first, let y0 = y.first else { return .empty }
        let xs = x.dropFirst(), ys = y.dropFirst()
        if x0 == y0 { return .seq([.byte(ByteSet(x0)), fixedWidth(xs, ys)]) }
        let n = xs.count
        let lowIsWhole = xs.allSatisfy { $0 == 0x30 }, highIsWhole = ys.allSatisfy { $0 == 0x39 }
        let anyTail: GExpr = n == 0 ? .empty : .rep(digit, min: n, max: n)
        var alts: [GExpr] = []
        if !lowIsWhole { alts.append(.seq([.byte(ByteSet(x0)), fixedWidth(xs, ArraySlice(repeating: 0x39, count: n))])) }
        let midLo = lowIsWhole ? x0 : x0 + 1, midHi = highIsWhole ? y0 : y0 - 1
        if midLo <= midHi { alts.append(.seq([.byte(ByteSet(midLo...midHi)), anyTail])) }
        if !highIsWhole { alts.append(.seq([.byte(ByteSet(y0)), fixedWidth(ArraySlice(repeating: 0x30, count: n), ys)])) }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }
}
