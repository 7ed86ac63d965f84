/// Splits raw text at added tokens exactly as HF `AddedVocabulary::extract_and_normalize` does.
///
/// Two passes: non-normalized tokens on the raw text, then normalized tokens on the remaining gaps (after the
/// normalizer: `rawSegments` and `normalizedSegments` let the tokenizer normalize in between; `segments` does both
/// for the identity normalizer). Each pass finds leftmost-longest, non-overlapping occurrences (Aho-Corasick
/// `LeftmostLongest`) and applies `single_word`, `lstrip` and `rstrip` like HF's `find_matches`.
///
/// Linear in the text, whatever the tokens: an Aho-Corasick automaton over the *reversed* tokens, run from the end
/// of the text to its start, gives at each position the longest token starting there (the longest terminal on the
/// state's suffix chain), so the left-to-right greedy pass never walks a trie again. (Walking a trie from each
/// position costs text × longest token: 20,000 `<` against tokens `<`, `<<`, … was quadratic.)
struct AddedTokenMatcher: Sendable {
    enum Segment: Equatable {
        case text(Int, Int)
        case token(Int)
    }

    struct Pass: Sendable {
        var tokens: [AddedToken] = []
        var lengths: [Int] = []
        /// Trie over reversed token bytes: child of (node, byte) at `children[node << 8 | byte]`; node 0 is the root.
        var children: [Int: Int32] = [:]
        /// Per node: Aho-Corasick failure link (longest proper suffix that is a node).
        var fail: [Int32] = [0]
        /// Per node: index into `tokens` of the longest token on the node's suffix chain (itself first), or -1.
        var longest: [Int32] = [-1]
        /// The root's children by byte (0: none), so text far from any token costs one array read per byte.
        var rootChild = [Int32](repeating: 0, count: 256)
        var isEmpty: Bool { tokens.isEmpty }

        init(_ list: [AddedToken]) {
            var terminal: [Int32] = [-1]
            var depth: [Int] = [0]
            var contents = Set<String>()
            for t in list where !t.content.isEmpty {
                guard contents.insert(t.content).inserted else { continue }  // same content twice: the first wins
                var node = 0
                for b in t.content.utf8.reversed() {
                    let key = node << 8 | Int(b)
                    if let next = children[key] {
                        node = Int(next)
                    } else {
                        terminal.append(-1)
                        depth.append(depth[node] + 1)
                        children[key] = Int32(terminal.count - 1)
                        node = terminal.count - 1
                    }
                }
                terminal[node] = Int32(tokens.count)
                tokens.append(t)
                lengths.append(t.content.utf8.count)
            }
            // Failure links breadth first (a node's link is shallower, so it is final before the node needs it).
            var byDepth = Array(0..<terminal.count)
            byDepth.sort { depth[$0] < depth[$1] }
            var parentOf = [Int](repeating: 0, count: terminal.count)
            var byteOf = [UInt8](repeating: 0, count: terminal.count)
            for (key, child) in children {
                parentOf[Int(child)] = key >> 8
                byteOf[Int(child)] = UInt8(truncatingIfNeeded: key)
            }
            for b in 0..<256 { rootChild[b] = children[b] ?? 0 }
            fail = [Int32](repeating: 0, count: terminal.count)
            longest = terminal
            for node in byDepth where node != 0 {
                let parent = parentOf[node]
                if parent != 0 {
                    var f = Int(fail[parent])
                    while true {
                        if let next = children[f << 8 | Int(byteOf[node])] {
                            fail[node] = next
                            break
                        }
                        if f == 0 { break }
                        f = Int(fail[f])
                    }
                }
                if longest[node] < 0 { longest[node] = longest[Int(fail[node])] }
            }
        }

        /// For each position of [lo, hi): the index in `tokens` of the longest token starting there and ending by
        /// `hi`, or -1. One right-to-left automaton run; `work` counts transitions (for the linear-time test).
        func longestStarts(_ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int, work: inout Int) -> [Int32] {
            var out = [Int32](repeating: -1, count: hi - lo)
            var node = 0
            var i = hi
            while i > lo {
                i -= 1
                let b = Int(p[i])
                if node == 0 {  // the common case: most bytes end no token (one array lookup)
                    node = Int(rootChild[b])
                    work += 1
                    out[i - lo] = longest[node]
                    continue
                }
                while true {
                    work += 1
                    if let next = children[node << 8 | b] {
                        node = Int(next)
                        break
                    }
                    if node == 0 { break }
                    node = Int(fail[node])
                }
                out[i - lo] = longest[node]
            }
            return out
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
        var work = 0
        return find(pass, p, lo, hi, work: &work)
    }

    /// The same, adding the work done (automaton transitions and whitespace scalars looked at) to `work`.
    static func find(_ pass: Pass, _ p: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int, work: inout Int) -> [Segment] {
        guard !pass.isEmpty else { return [.text(lo, hi)] }
        let table = UnicodeTable.shared
        let starts = pass.longestStarts(p, lo, hi, work: &work)
        var out: [Segment] = []
        var startOffset = lo
        // Whitespace already scanned by an rstrip: [wsFrom, wsEnd) is all whitespace and wsEnd ends the run, so a
        // later rstrip inside it stops at wsEnd without looking again (tokens of whitespace with rstrip).
        var wsFrom = -1, wsEnd = -1
        var i = lo
        while i < hi {
            let matched = Int(starts[i - lo])
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
                // Only whitespace after the previous segment's end can be absorbed (start >= startOffset), so the
                // walk stops there: each byte is walked back over at most once.
                var s = start
                while s > max(lo, startOffset) {
                    let l = previousScalarLength(p, lo, s)
                    let (c, _) = readScalar(p, s - l, hi)
                    work += 1
                    if table.flags(c) & UnicodeTable.whitespace == 0 { break }
                    s -= l
                }
                start = max(s, startOffset)
            }
            if token.rstrip {
                if stop >= wsFrom && stop <= wsEnd {
                    stop = wsEnd
                } else {
                    wsFrom = stop
                    while stop < hi {
                        let (c, l) = readScalar(p, stop, hi)
                        work += 1
                        if table.flags(c) & UnicodeTable.whitespace == 0 { break }
                        stop += l
                    }
                    wsEnd = stop
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
