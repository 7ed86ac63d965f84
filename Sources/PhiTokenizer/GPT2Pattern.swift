/// Hand-coded matcher for the GPT-2 pre-tokenizer regex (HF `ByteLevel(use_regex: true)`, GGUF `gpt2`):
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (contractions case-sensitive).
enum GPT2Pattern {
    static let pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    @inline(__always)
    static func matchEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ t: UnicodeTable) -> Int {
        if p[i] == 0x27 {
            let k = O200kPattern.contractionTail(p, n, i + 1, caseInsensitive: false)
            if k > 0 { return i + k }
        }
        let s = p[i] == 0x20 ? i + 1 : i
        if let e = run(p, n, s, t, UnicodeTable.letter) { return e }
        if let e = run(p, n, s, t, UnicodeTable.number) { return e }
        if let e = runOfOther(p, n, s, t) { return e }
        let (_, l0) = readScalar(p, i, n)
        return O200kPattern.whitespace(p, n, i, t, newlines: false, fallback: i + l0)
    }

    /// End of the run of scalars having `flag`, starting at `s`; nil if the run is empty.
    @inline(__always)
    static func run(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ t: UnicodeTable, _ flag: UInt8) -> Int? {
        var e = s
        while e < n {
            let (c, l) = readScalar(p, e, n)
            if t.flags(c) & flag == 0 { break }
            e += l
        }
        return e > s ? e : nil
    }

    /// End of the run of `[^\s\p{L}\p{N}]` starting at `s`; nil if empty.
    @inline(__always)
    static func runOfOther(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ t: UnicodeTable) -> Int? {
        var e = s
        let stop = UnicodeTable.whitespace | UnicodeTable.letter | UnicodeTable.number
        while e < n {
            let (c, l) = readScalar(p, e, n)
            if t.flags(c) & stop != 0 { break }
            e += l
        }
        return e > s ? e : nil
    }
}
