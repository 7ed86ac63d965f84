/// Hand-coded matcher for the o200k pre-tokenizer regex (tiktoken `o200k_base`, Phi-4), on UTF-8 bytes.
///
/// Alternatives, tried leftmost-first at the current position as Oniguruma / fancy-regex do:
/// 1. `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
/// 2. `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
/// 3. `\p{N}{1,3}`   4. ` ?[^\s\p{L}\p{N}]+[\r\n/]*`   5. `\s*[\r\n]+`   6. `\s+(?!\S)`   7. `\s+`
/// `\s` is Unicode White_Space. Every scalar is matched by some alternative, so matches are contiguous.
enum O200kPattern {
    static let pattern = [
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
        #"\p{N}{1,3}"#,
        #" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
        #"\s*[\r\n]+"#,
        #"\s+(?!\S)"#,
        #"\s+"#,
    ].joined(separator: "|")

    private static let letterOrNumber = UnicodeTable.letter | UnicodeTable.number
    private static let upper = UnicodeTable.upper
    private static let lower = UnicodeTable.lower

    /// End (byte offset) of the match that starts at `i` (< n); always > i.
    @inline(__always)
    static func matchEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ t: UnicodeTable) -> Int {
        let (c0, l0) = readScalar(p, i, n)
        let f0 = t.flags(c0)
        // Alternatives 1 and 2 share the optional prefix character.
        let prefixOK = c0 != 0x0A && c0 != 0x0D && f0 & letterOrNumber == 0
        if prefixOK, let e = lettersLowerTail(p, n, i + l0, t) { return contraction(p, n, e) }
        if f0 & (upper | lower) != 0, let e = lettersLowerTail(p, n, i, t) { return contraction(p, n, e) }
        if prefixOK, let e = lettersUpperHead(p, n, i + l0, t) { return contraction(p, n, e) }
        if f0 & upper != 0, let e = lettersUpperHead(p, n, i, t) { return contraction(p, n, e) }
        // 3: \p{N}{1,3}
        if f0 & UnicodeTable.number != 0 {
            var e = i + l0
            var k = 1
            while k < 3 && e < n {
                let (c, l) = readScalar(p, e, n)
                if t.flags(c) & UnicodeTable.number == 0 { break }
                e += l
                k += 1
            }
            return e
        }
        // 4: ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        let s = c0 == 0x20 ? i + 1 : i
        var e = s
        while e < n {
            let (c, l) = readScalar(p, e, n)
            if t.flags(c) & (UnicodeTable.whitespace | letterOrNumber) != 0 { break }
            e += l
        }
        if e > s {
            while e < n && (p[e] == 0x0D || p[e] == 0x0A || p[e] == 0x2F) { e += 1 }
            return e
        }
        return whitespace(p, n, i, t, newlines: true, fallback: i + l0)
    }

    /// Alternatives 5 (when `newlines`), 6 and 7 at `i`; `fallback` if `i` is not whitespace.
    @inline(__always)
    static func whitespace(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ t: UnicodeTable,
                           newlines: Bool, fallback: Int) -> Int {
        var r = i
        var lastNewline = -1
        var lastStart = i
        while r < n {
            let (c, l) = readScalar(p, r, n)
            if t.flags(c) & UnicodeTable.whitespace == 0 { break }
            if c == 0x0A || c == 0x0D { lastNewline = r }
            lastStart = r
            r += l
        }
        if newlines && lastNewline >= 0 { return lastNewline + 1 }  // \s*[\r\n]+
        if r == i { return fallback }
        if r == n { return n }  // \s+(?!\S) at the end of the text
        if lastStart > i { return lastStart }  // \s+(?!\S) leaves the last space to the next piece
        return r  // \s+
    }

    /// `[UP]*[LO]+` from `s` with regex backtracking: the last LO position reachable, then the LO run from it.
    @inline(__always)
    private static func lettersLowerTail(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ t: UnicodeTable) -> Int? {
        var j = s
        var lastLower = -1
        while j < n {
            let (c, l) = readScalar(p, j, n)
            let f = t.flags(c)
            if f & lower != 0 { lastLower = j }
            if f & upper == 0 { break }
            j += l
        }
        guard lastLower >= 0 else { return nil }
        var e = lastLower
        while e < n {
            let (c, l) = readScalar(p, e, n)
            if t.flags(c) & lower == 0 { break }
            e += l
        }
        return e
    }

    /// `[UP]+[LO]*` from `s`.
    @inline(__always)
    private static func lettersUpperHead(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ t: UnicodeTable) -> Int? {
        guard s < n else { return nil }
        var j = s
        while j < n {
            let (c, l) = readScalar(p, j, n)
            if t.flags(c) & upper == 0 { break }
            j += l
        }
        guard j > s else { return nil }
        while j < n {
            let (c, l) = readScalar(p, j, n)
            if t.flags(c) & lower == 0 { break }
            j += l
        }
        return j
    }

    /// Optional `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `e`. Case folding is Unicode's: `ſ` (U+017F) folds to `s`.
    @inline(__always)
    static func contraction(_ p: UnsafePointer<UInt8>, _ n: Int, _ e: Int) -> Int {
        guard e + 1 < n, p[e] == 0x27 else { return e }
        return e + contractionTail(p, n, e + 1, caseInsensitive: true)
    }

    /// Length of `s|t|re|ve|m|ll|d` (after the apostrophe) at `a`, plus 1 for the apostrophe; 0 if none.
    @inline(__always)
    static func contractionTail(_ p: UnsafePointer<UInt8>, _ n: Int, _ a: Int, caseInsensitive: Bool) -> Int {
        guard a < n else { return 0 }
        @inline(__always) func fold(_ c: UInt8) -> UInt8 {
            caseInsensitive && c >= 0x41 && c <= 0x5A ? c | 0x20 : c
        }
        let c = fold(p[a])
        switch c {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        case 0x72, 0x76:  // r v -> re ve
            return a + 1 < n && fold(p[a + 1]) == 0x65 ? 3 : 0
        case 0x6C:  // l -> ll
            return a + 1 < n && fold(p[a + 1]) == 0x6C ? 3 : 0
        case 0xC5:  // U+017F LATIN SMALL LETTER LONG S folds to s
            return caseInsensitive && a + 1 < n && p[a + 1] == 0xBF ? 3 : 0
        default: return 0
        }
    }
}
