/// Hand-coded matcher for the Llama-3 / cl100k-style pre-tokenizer regex (GGUF pre-tokenizer `llama-bpe`):
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
enum Llama3Pattern {
    static let pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    @inline(__always)
    static func matchEnd(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ t: UnicodeTable) -> Int {
        if p[i] == 0x27 {
            let k = O200kPattern.contractionTail(p, n, i + 1, caseInsensitive: true)
            if k > 0 { return i + k }
        }
        let (c0, l0) = readScalar(p, i, n)
        let f0 = t.flags(c0)
        let prefixOK = c0 != 0x0A && c0 != 0x0D && f0 & (UnicodeTable.letter | UnicodeTable.number) == 0
        if prefixOK, let e = GPT2Pattern.run(p, n, i + l0, t, UnicodeTable.letter) { return e }
        if f0 & UnicodeTable.letter != 0, let e = GPT2Pattern.run(p, n, i, t, UnicodeTable.letter) { return e }
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
        let s = c0 == 0x20 ? i + 1 : i
        if let e0 = GPT2Pattern.runOfOther(p, n, s, t) {
            var e = e0
            while e < n && (p[e] == 0x0D || p[e] == 0x0A) { e += 1 }
            return e
        }
        return O200kPattern.whitespace(p, n, i, t, newlines: true, fallback: i + l0)
    }
}
