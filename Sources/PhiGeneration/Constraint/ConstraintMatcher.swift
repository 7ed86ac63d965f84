/// The state of one constrained output: which tokens may come next, and advancing by the chosen token.
/// Masks for a state seen before in this output come from a cache; a state without a stack (every non-recursive
/// schema) is a straight copy of its node's precomputed mask.
public struct ConstraintMatcher {
    public let compiled: CompiledConstraint
    var arena = StackArena()
    /// Current configurations (not yet expanded).
    var configs: [StackConfig]
    private var cache: [[StackConfig]: TokenMask] = [:]
    private var expansion = ConfigStepper.Expansion()
    private var stepped: [StackConfig] = []
    private var stepper: ConfigStepper { ConfigStepper(a: compiled.automaton) }

    static let cacheLimit = 4096

    init(_ compiled: CompiledConstraint) {
        self.compiled = compiled
        configs = [StackConfig(parent: StackArena.bottom, top: compiled.automaton.start)]
    }

    /// The output so far is complete (an end token may follow).
    public var isComplete: Bool {
        mutating get {
            stepper.expand(configs, arena: &arena, into: &expansion)
            return expansion.complete
        }
    }

    /// Tokens that keep the output a valid prefix (end tokens not included: see `mask(endTokens:)`).
    public mutating func allowedTokens(into mask: inout TokenMask) {
        mask.removeAll()
        if configs.count == 1 && configs[0].parent == StackArena.bottom {
            compiled.nodeMask(configs[0].top).add(to: &mask)
            return
        }
        if let m = cache[configs] { mask = m; return }
        for c in configs {
            let nm = compiled.nodeMask(c.top)
            nm.add(to: &mask)
            guard c.parent >= 0, !nm.escapes.isEmpty else { continue }
            resolveEscapes(nm, parent: c.parent, into: &mask)
        }
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[configs] = mask
    }

    /// Tokens below an escape continue in the frames under the popped one: walk them from there.
    private mutating func resolveEscapes(_ nm: CompiledConstraint.NodeMask, parent p: Int32, into mask: inout TokenMask) {
        let a = compiled.automaton, trie = compiled.trie
        var level0 = ConfigStepper.Expansion()
        stepper.expand([StackConfig(parent: arena.parent[Int(p)], top: arena.node[Int(p)])], arena: &arena, into: &level0)
        var words = mask.words
        for e in nm.escapes {
            if e.node < 0 {
                for c in level0.configs {
                    for i in a.tokenRange(c.top) {
                        let id = Int(a.tokenEdges[i].id)
                        if id < trie.vocabularySize { words[id >> 6] |= UInt64(1) << UInt64(id & 63) }
                    }
                }
                TrieWalker.stack(a, trie, level0: level0.configs, range: 0, trie.nodeCount, baseDepth: 0,
                                 arena: &arena, into: &words) { _, _ in }
            } else {
                let i = Int(e.node)
                TrieWalker.stack(a, trie, level0: level0.configs, range: i + 1, Int(trie.end[i]),
                                 baseDepth: Int(e.depth), arena: &arena, into: &words) { _, _ in }
            }
        }
        mask = TokenMask(count: mask.count)
        words.withUnsafeBufferPointer { mask.formUnion(words: $0) }
    }

    /// The allowed tokens plus `endTokens` when the output is complete.
    public mutating func mask(endTokens: Set<Int>) -> TokenMask {
        var m = TokenMask(count: compiled.vocabularySize)
        allowedTokens(into: &m)
        if !endTokens.isEmpty && isComplete {
            for id in endTokens { m.insert(id) }
        }
        return m
    }

    /// Advances by one token; false (state unchanged) if the token would leave the language.
    @discardableResult
    public mutating func accept(token id: Int) -> Bool {
        let v = compiled.trie.vocabulary
        guard id >= 0 && id < v.count else { return false }
        if v.isAdded[id] {
            stepper.expand(configs, arena: &arena, into: &expansion)
            var out: [StackConfig] = []
            let a = compiled.automaton
            for c in expansion.configs {
                for i in a.tokenRange(c.top) where Int(a.tokenEdges[i].id) == id {
                    let n = StackConfig(parent: c.parent, top: a.tokenEdges[i].to)
                    if !out.contains(n) { out.append(n) }
                }
            }
            guard !out.isEmpty else { return false }
            configs = out
            return true
        }
        let bytes = v.tokenBytes(id)
        guard !bytes.isEmpty else { return false }
        return accept(bytes: bytes)
    }

    /// Advances by raw bytes; false (state unchanged) if they would leave the language.
    @discardableResult
    public mutating func accept<C: Collection>(bytes: C) -> Bool where C.Element == UInt8 {
        var cur = configs
        for b in bytes {
            stepper.expand(cur, arena: &arena, into: &expansion)
            stepper.step(expansion.configs, b, into: &stepped)
            if stepped.isEmpty { return false }
            cur = stepped
        }
        configs = cur.sorted { ($0.parent, $0.top) < ($1.parent, $1.top) }
        return true
    }

    /// The bytes every continuation must start with (a forced stretch), stopping where the output could end.
    public mutating func forcedBytes(limit: Int = 256) -> [UInt8] {
        var out: [UInt8] = []
        var cur = configs
        let a = compiled.automaton
        while out.count < limit {
            stepper.expand(cur, arena: &arena, into: &expansion)
            if expansion.complete { break }
            if expansion.configs.contains(where: { !a.tokenRange($0.top).isEmpty }) { break }
            var only: UInt8? = nil
            var many = false
            for c in expansion.configs {
                for b in 0..<256 where a.step(c.top, UInt8(b)) >= 0 {
                    if let o = only, o != UInt8(b) { many = true; break }
                    only = UInt8(b)
                }
                if many { break }
            }
            guard !many, let b = only else { break }
            stepper.step(expansion.configs, b, into: &stepped)
            cur = stepped
            out.append(b)
        }
        return out
    }
}
