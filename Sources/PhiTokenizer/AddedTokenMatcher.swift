/// Splits raw text at added tokens exactly as HF `AddedVocabulary::extract_and_normalize` does.
///
/// Two passes: non-normalized tokens on the raw text, then normalized tokens on the remaining gaps (after the
/// normalizer: `rawSegments` and `normalizedSegments` let the tokenizer normalize in between; `segments` does both
/// for the identity normalizer). Each pass finds leftmost-longest, non-overlapping occurrences (Aho-Corasick
/// `LeftmostLongest`) and applies `single_word`, `lstrip` and `rstrip` like HF's `find_matches`.
///
/// Matching walks a byte trie from each position: O(text length × longest token), whatever the number of tokens.
struct AddedTokenMatcher: Sendable {
    enum Segment: Equatable {
        case text(Int, Int)
        case token(Int)
    }

    private struct Pass: Sendable {
        var tokens: [AddedToken] = []
        var lengths: [Int] = []
        /// Trie over token bytes: child of (node, byte) at `children[node << 8 | byte]`; node 0 is the root.
        var children: [Int: Int32] = [:]
        /// Per node: index into `tokens` of the token ending there, or -1.
        var terminal: [Int32] = [-1]
        /// Bytes that start some token (cheap rejection at most positions).
        var starts = [Bool](repeating: false, count: 256)
        var isEmpty: Bool { tokens.isEmpty }

        init(_ list: [AddedToken]) {
            for t in list where !t.content.isEmpty {
                let bytes = Array(t.content.utf8)
                var node = 0
                for b in bytes {
                    let key = node << 8 | Int(b)
                    if let next = children[key] {
                        node = Int(next)
                    } else {
                        terminal.append(-1)
                        children[key] = Int32(terminal.count - 1)
                        node = terminal.count - 1
                    }
                }
                guard terminal[node] < 0 else { continue }  // same content twice: the first one wins
                terminal[node] = Int32(tokens.count)
                tokens.append(t)
                lengths.append(bytes.count)
                starts[Int(bytes[0])] = true
            }
        }

        /// The longest token starting at `i` (ending before `hi`): its index in `tokens`, or -1.
        @inline(__always)
        func longest(_ p: UnsafePointer<UInt8>, _ i: Int, _ hi: Int) -> Int {
            guard starts[Int(p[i])] else { return -1 }
            var node = 0
            var best = -1
            var j = i
            while j < hi, let next = children[node << 8 | Int(p[j])] {
                node = Int(next)
                if terminal[node] >= 0 { best = Int(terminal[node]) }
                j += 1
            }
            return best
        }
    }

    private let raw: Pass
    private let normalized: Pass
    var isEmpty: Bool { raw.isEmpty && normalized.isEmpty }
    var hasNormalizedTokens: Bool { !normalized.isEmpty }

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

    /// The first pass alone (non-normalized tokens on the raw text).
    func rawSegments(_ p: UnsafePointer<UInt8>, _ n: Int) -> [Segment] {
        n > 0 ? Self.find(raw, p, 0, n) : []
    }

    /// The second pass alone (normalized tokens on normalized text).
    func normalizedSegments(_ p: UnsafePointer<UInt8>, _ n: Int) -> [Segment] {
        n > 0 ? Self.find(normalized, p, 0, n) : []
    }

    /// HF `find_matches` on the sub-string [lo, hi).
    private static func find(_ pass: Pass, _ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> [Segment] {
        guard !pass.isEmpty else { return [.text(lo, hi)] }
        let table = UnicodeTable.shared
        var out: [Segment] = []
        var startOffset = lo
        var i = lo
        while i < hi {
            let matched = pass.longest(p, i, hi)
            guard matched >= 0 else {
                i += 1
                continue
            }
            let token = pass.tokens[matched]
            let matchEnd = i + pass.lengths[matched]
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
