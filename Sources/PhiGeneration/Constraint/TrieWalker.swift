/// Walks the vocabulary trie with automaton states, one state (or configuration set) per depth, backtracking on
/// the way out of each subtree; a dead state skips its whole subtree.
enum TrieWalker {
    /// Tokens accepted from `start` by a stack-free automaton: bit per id in `words`.
    static func dfa(_ a: ByteAutomaton, _ trie: VocabularyTrie, from start: Int32, into words: inout [UInt64]) {
        var stateAt = [Int32](repeating: -1, count: trie.maxDepth + 2)
        stateAt[0] = start
        let n = trie.nodeCount
        a.next.withUnsafeBufferPointer { next in
        trie.byte.withUnsafeBufferPointer { byte in
        trie.depth.withUnsafeBufferPointer { depth in
        trie.end.withUnsafeBufferPointer { end in
        trie.tokenStart.withUnsafeBufferPointer { tokenStart in
        trie.tokens.withUnsafeBufferPointer { tokens in
        words.withUnsafeMutableBufferPointer { w in
        stateAt.withUnsafeMutableBufferPointer { st in
            var i = 0
            while i < n {
                let d = Int(depth[i])
                let t = next[Int(st[d - 1]) &* 256 &+ Int(byte[i])]
                if t < 0 { i = Int(end[i]); continue }
                st[d] = t
                var k = Int(tokenStart[i])
                let e = Int(tokenStart[i + 1])
                while k < e {
                    let id = Int(tokens[k])
                    w[id >> 6] |= UInt64(1) << UInt64(id & 63)
                    k += 1
                }
                i += 1
            }
        }}}}}}}}
    }

    /// Tokens accepted from expanded configurations `level0`, over trie nodes `lo ..< hi` whose depths are
    /// relative to `baseDepth` (a sub-walk after an escape starts inside a token). Calls `onEscape(node, depth)`
    /// where some configuration pops below `StackArena.base` with bytes left in the tokens below that node.
    static func stack(_ a: ByteAutomaton, _ trie: VocabularyTrie, level0: [StackConfig], range lo: Int, _ hi: Int,
                      baseDepth: Int, arena: inout StackArena, into words: inout [UInt64],
                      onEscape: (Int32, UInt16) -> Void) {
        let stepper = ConfigStepper(a: a)
        // Levels in one flat buffer: level k is buf[levelStart[k] ..< levelStart[k + 1]] (no allocation per node).
        var buf: [StackConfig] = level0
        buf.reserveCapacity(1024)
        var levelStart: [Int] = [0, level0.count]
        levelStart.reserveCapacity(trie.maxDepth + 2)
        var stepped: [StackConfig] = []
        stepped.reserveCapacity(16)
        var expansion = ConfigStepper.Expansion()
        var i = lo
        while i < hi {
            let k = Int(trie.depth[i]) - baseDepth
            if levelStart.count > k + 1 {
                levelStart.removeLast(levelStart.count - (k + 1))
                buf.removeLast(buf.count - levelStart[k])
            }
            let b = trie.byte[i]
            if levelStart[k] - levelStart[k - 1] == 1 {
                // One configuration (the usual case): step it directly; a trivial target needs no closure.
                let c = buf[levelStart[k - 1]]
                let t = a.step(c.top, b)
                if t < 0 { i = Int(trie.end[i]); continue }
                for x in Int(trie.tokenStart[i])..<Int(trie.tokenStart[i + 1]) {
                    let id = Int(trie.tokens[x])
                    words[id >> 6] |= UInt64(1) << UInt64(id & 63)
                }
                if Int(trie.end[i]) == i + 1 { i += 1; continue }
                if a.trivial[Int(t)] {
                    buf.append(StackConfig(parent: c.parent, top: t))
                } else {
                    stepper.expand([StackConfig(parent: c.parent, top: t)], arena: &arena, into: &expansion)
                    if expansion.escaped { onEscape(Int32(i), trie.depth[i]) }
                    buf.append(contentsOf: expansion.configs)
                }
                levelStart.append(buf.count)
                i += 1
                continue
            }
            stepped.removeAll(keepingCapacity: true)
            var allTrivial = true
            for j in levelStart[k - 1]..<levelStart[k] {
                let c = buf[j]
                let t = a.step(c.top, b)
                if t >= 0 {
                    let n = StackConfig(parent: c.parent, top: t)
                    if stepped.isEmpty || !stepped.contains(n) {
                        stepped.append(n)
                        if !a.trivial[Int(t)] { allTrivial = false }
                    }
                }
            }
            if stepped.isEmpty { i = Int(trie.end[i]); continue }
            for t in Int(trie.tokenStart[i])..<Int(trie.tokenStart[i + 1]) {
                let id = Int(trie.tokens[t])
                words[id >> 6] |= UInt64(1) << UInt64(id & 63)
            }
            if Int(trie.end[i]) == i + 1 { i += 1; continue }  // a leaf: no token continues past it
            if allTrivial {
                buf.append(contentsOf: stepped)
            } else {
                stepper.expand(stepped, arena: &arena, into: &expansion)
                if expansion.escaped { onEscape(Int32(i), trie.depth[i]) }
                buf.append(contentsOf: expansion.configs)
            }
            levelStart.append(buf.count)
            i += 1
        }
    }
}
