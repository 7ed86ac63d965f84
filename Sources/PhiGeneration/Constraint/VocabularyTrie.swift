import PhiTokenizer

/// The byte-level vocabulary as a flat trie in depth-first order: node i has `byte[i]` at `depth[i]` (1-based),
/// its subtree is `i ..< end[i]`, and `tokens[tokenStart[i] ..< tokenStart[i + 1]]` are the ids whose bytes end
/// there. Walking it with an automaton state per depth decides every token while sharing common prefixes, and
/// skipping a dead subtree costs one jump. Added tokens are not in the trie (a grammar names them explicitly).
final class VocabularyTrie: Sendable {
    let byte: [UInt8]
    let depth: [UInt16]
    let end: [Int32]
    let tokenStart: [Int32]
    let tokens: [Int32]
    let vocabularySize: Int
    let maxDepth: Int
    let vocabulary: TokenVocabulary
    var nodeCount: Int { byte.count }

    init(vocabulary v: TokenVocabulary) {
        vocabulary = v
        vocabularySize = v.count
        var ids: [Int32] = []
        ids.reserveCapacity(v.count)
        for id in 0..<v.count where !v.isAdded[id] && v.offsets[id + 1] > v.offsets[id] { ids.append(Int32(id)) }
        v.bytes.withUnsafeBufferPointer { bytes in
            ids.sort { a, b in
                let a0 = v.offsets[Int(a)], a1 = v.offsets[Int(a) + 1], b0 = v.offsets[Int(b)], b1 = v.offsets[Int(b) + 1]
                var i = 0
                while a0 + i < a1 && b0 + i < b1 {
                    let x = bytes[a0 + i], y = bytes[b0 + i]
                    if x != y { return x < y }
                    i += 1
                }
                return (a1 - a0, a) < (b1 - b0, b)
            }
        }
        var byte: [UInt8] = [], depth: [UInt16] = [], end: [Int32] = [], tokenStart: [Int32] = [], tokens: [Int32] = []
        var path: [Int] = []  // node index per depth-1
        var prev: ArraySlice<UInt8> = []
        var maxDepth = 0
        for id in ids {
            let cur = v.tokenBytes(Int(id))
            let len = min(cur.count, Int(UInt16.max))
            var lcp = 0
            while lcp < prev.count && lcp < len && prev[prev.startIndex + lcp] == cur[cur.startIndex + lcp] { lcp += 1 }
            while path.count > lcp {
                end[path.removeLast()] = Int32(byte.count)
            }
            for k in lcp..<len {
                path.append(byte.count)
                byte.append(cur[cur.startIndex + k])
                depth.append(UInt16(k + 1))
                end.append(0)
                tokenStart.append(Int32(tokens.count))
            }
            tokens.append(id)
            maxDepth = max(maxDepth, len)
            prev = cur.prefix(len)
        }
        while let last = path.popLast() { end[last] = Int32(byte.count) }
        tokenStart.append(Int32(tokens.count))
        self.byte = byte
        self.depth = depth
        self.end = end
        self.tokenStart = tokenStart
        self.tokens = tokens
        self.maxDepth = maxDepth
    }
}
