/// Splits raw text at added tokens exactly as HF `AddedVocabulary::extract_and_normalize` does.
///
/// Two passes: non-normalized tokens on the raw text, then normalized tokens on the remaining gaps (the
/// normalizer is always the identity here). Each pass finds leftmost-longest, non-overlapping occurrences
/// (Aho-Corasick `LeftmostLongest`) and applies `single_word`, `lstrip` and `rstrip` like HF's `find_matches`.
struct AddedTokenMatcher: Sendable {
    enum Segment: Equatable {
        case text(Int, Int)
        case token(Int)
    }

    private struct Pass: Sendable {
        /// Candidates per first byte, longest first.
        var byFirstByte: [[Int]] = Array(repeating: [], count: 256)
        var tokens: [(bytes: [UInt8], token: AddedToken)] = []
        var isEmpty: Bool { tokens.isEmpty }

        init(_ list: [AddedToken]) {
            for t in list where !t.content.isEmpty {
                tokens.append((Array(t.content.utf8), t))
            }
            for (i, t) in tokens.enumerated() { byFirstByte[Int(t.bytes[0])].append(i) }
            for b in 0..<256 {
                byFirstByte[b].sort { tokens[$0].bytes.count > tokens[$1].bytes.count }
            }
        }
    }

    private let raw: Pass
    private let normalized: Pass
    var isEmpty: Bool { raw.isEmpty && normalized.isEmpty }

    init(_ tokens: [AddedToken]) {
        raw = Pass(tokens.filter { !$0.normalized })
        normalized = Pass(tokens.filter { $0.normalized })
    }

    /// Segments of the `n` bytes at `p`, in order; text segments are byte ranges (never empty).
    func segments(_ p: UnsafePointer<UInt8>, _ n: Int) -> [Segment] {
        guard n > 0 else { return [] }
        let first = Self.find(raw, p, 0, n)
        guard !normalized.isEmpty else { return first }
        var out: [Segment] = []
        for s in first {
            if case .text(let a, let b) = s {
                out.append(contentsOf: Self.find(normalized, p, a, b))
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// HF `find_matches` on the sub-string [lo, hi).
    private static func find(_ pass: Pass, _ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> [Segment] {
        guard !pass.isEmpty else { return [.text(lo, hi)] }
        let table = UnicodeTable.shared
        var out: [Segment] = []
        var startOffset = lo
        var i = lo
        while i < hi {
            var matched = -1
            for k in pass.byFirstByte[Int(p[i])] {
                let bytes = pass.tokens[k].bytes
                if i + bytes.count <= hi {
                    var j = 1
                    while j < bytes.count && p[i + j] == bytes[j] { j += 1 }
                    if j == bytes.count {
                        matched = k
                        break
                    }
                }
            }
            guard matched >= 0 else {
                i += 1
                continue
            }
            let token = pass.tokens[matched].token
            let matchEnd = i + pass.tokens[matched].bytes.count
            var start = i
            var stop = matchEnd
            i = matchEnd  // the automaton resumes after the raw match, whatever the strips absorb
            if token.singleWord {
                let startSpace = start == lo || !isWordChar(before: start, p, lo, table)
                let stopSpace = stop == hi || !isWordChar(at: stop, p, hi, table)
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                var s = start
                while s > lo {
                    let l = previousScalarLength(p, lo, s)
                    let (c, _) = readScalar(p, s - l, hi)
                    if table.flags(c) & UnicodeTable.whitespace == 0 { break }
                    s -= l
                }
                start = max(s, startOffset)
            }
            if token.rstrip {
                while stop < hi {
                    let (c, l) = readScalar(p, stop, hi)
                    if table.flags(c) & UnicodeTable.whitespace == 0 { break }
                    stop += l
                }
            }
            if startOffset < start { out.append(.text(startOffset, start)) }
            out.append(.token(token.id))
            startOffset = stop
        }
        if startOffset < hi { out.append(.text(startOffset, hi)) }
        return out
    }

    private static func isWordChar(before end: Int, _ p: UnsafePointer<UInt8>, _ lo: Int, _ t: UnicodeTable) -> Bool {
        let l = previousScalarLength(p, lo, end)
        let (c, _) = readScalar(p, end - l, end)
        return t.flags(c) & UnicodeTable.word != 0
    }

    private static func isWordChar(at i: Int, _ p: UnsafePointer<UInt8>, _ hi: Int, _ t: UnicodeTable) -> Bool {
        let (c, _) = readScalar(p, i, hi)
        return t.flags(c) & UnicodeTable.word != 0
    }
}
