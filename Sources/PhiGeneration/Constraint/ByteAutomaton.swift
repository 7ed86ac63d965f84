/// A grammar compiled to one deterministic automaton over bytes per recursive rule (a recursive transition
/// network). Rules that are not part of a reference cycle are inlined, so a schema without recursion becomes a
/// single DFA and its matcher needs no stack; recursive rules stay separate and are entered by call edges.
///
/// Nodes are numbered globally across rules. Dead nodes (from which no complete output is reachable) are pruned,
/// so every live state can still be completed: the mask never empties before the output is complete.
struct ByteAutomaton: Sendable {
    /// `next[node * 256 + byte]`: the next node, or -1.
    var next: [Int32] = []
    var accept: [Bool] = []
    /// Call edges of a node: `calls[callOffsets[n] ..< callOffsets[n + 1]]`, each (callee start node, return node).
    var callOffsets: [Int32] = [0]
    var calls: [(start: Int32, ret: Int32)] = []
    /// Added-token edges: (token id, next node).
    var tokenOffsets: [Int32] = [0]
    var tokenEdges: [(id: Int32, to: Int32)] = []
    var start: Int32 = 0
    /// No call edges and not accepting: a configuration there needs no closure (the common case inside strings).
    var trivial: [Bool] = []
    var nodeCount: Int { accept.count }
    /// True when some rule is entered by a call (the matcher then needs a stack).
    var hasCalls: Bool { !calls.isEmpty }
    /// Bytes its tables hold.
    var byteCount: Int {
        next.count * 4 + accept.count + trivial.count + (callOffsets.count + tokenOffsets.count) * 4
            + (calls.count + tokenEdges.count) * 8
    }

    /// Limits that keep a hostile constraint from taking the process's memory (a node's row is 1 KB).
    static let maxNFAStates = 2_000_000
    static let maxNodes = 50_000

    @inline(__always) func step(_ node: Int32, _ b: UInt8) -> Int32 { next[Int(node) &* 256 &+ Int(b)] }
    @inline(__always) func callRange(_ n: Int32) -> Range<Int> { Int(callOffsets[Int(n)])..<Int(callOffsets[Int(n) + 1]) }
    @inline(__always) func tokenRange(_ n: Int32) -> Range<Int> { Int(tokenOffsets[Int(n)])..<Int(tokenOffsets[Int(n) + 1]) }

    init(grammar g: Grammar) throws {
        let cyclic = ByteAutomaton.cyclicRules(g)
        var kept: [Int] = [0]  // grammar rule -> kept index
        var keptIndex: [Int: Int] = [0: 0]
        for r in 0..<g.rules.count where cyclic[r] && r != 0 {
            keptIndex[r] = kept.count
            kept.append(r)
        }
        var builderStarts: [Int32] = []
        var globalNext: [Int32] = []
        var globalAccept: [Bool] = []
        var globalCalls: [[(Int, Int32)]] = []  // (kept rule, ret node)
        var globalTokens: [[(Int32, Int32)]] = []
        for r in kept {
            var nfa = NFA()
            let s = nfa.newState(), e = nfa.newState()
            try nfa.build(g.rules[r], s, e, grammar: g, keptIndex: keptIndex, inlineDepth: 0)
            let dfa = try nfa.determinize(start: s, accept: e, nodeBase: globalAccept.count).minimized(nodeBase: globalAccept.count)
            builderStarts.append(Int32(globalAccept.count))
            globalNext += dfa.next
            globalAccept += dfa.accept
            globalCalls += dfa.calls
            globalTokens += dfa.tokens
            guard globalAccept.count <= ByteAutomaton.maxNodes else {
                throw ConstraintError.tooLarge("more than \(ByteAutomaton.maxNodes) automaton states")
            }
        }
        let n = globalAccept.count
        // Liveness: a node is live if a complete output is reachable from it. Found backward from the accepting
        // nodes over reversed edges, so the cost is linear in the edges (a pass over every node per step of the
        // longest path was quadratic: a 1,000-character const took seconds). A byte or token edge into a live node
        // makes its source live; a call edge needs both the callee's start and its return node live.
        var live = globalAccept
        var edgePreds = [[Int32]](repeating: [], count: n)
        var callPreds = [[(node: Int32, rule: Int, ret: Int32)]](repeating: [], count: n)
        for node in 0..<n {
            var last: Int32 = -1
            for b in 0..<256 {
                let t = globalNext[node * 256 + b]
                if t >= 0 && t != last { edgePreds[Int(t)].append(Int32(node)) }
                if t >= 0 { last = t }
            }
            for (_, to) in globalTokens[node] { edgePreds[Int(to)].append(Int32(node)) }
            for (rule, ret) in globalCalls[node] {
                let edge = (node: Int32(node), rule: rule, ret: ret)
                callPreds[Int(builderStarts[rule])].append(edge)
                if ret != builderStarts[rule] { callPreds[Int(ret)].append(edge) }
            }
        }
        var pending = (0..<n).filter { live[$0] }.map { Int32($0) }
        while let x = pending.popLast() {
            for p in edgePreds[Int(x)] where !live[Int(p)] {
                live[Int(p)] = true
                pending.append(p)
            }
            for e in callPreds[Int(x)] where !live[Int(e.node)] && live[Int(builderStarts[e.rule])] && live[Int(e.ret)] {
                live[Int(e.node)] = true
                pending.append(e.node)
            }
        }
        guard live[0] else { throw ConstraintError.unsatisfiable(path: "#", reason: "no output matches") }
        for node in 0..<n {
            for b in 0..<256 {
                let t = globalNext[node * 256 + b]
                if t >= 0 && !live[Int(t)] { globalNext[node * 256 + b] = -1 }
            }
        }
        next = globalNext
        accept = globalAccept
        for node in 0..<n {
            for (rule, ret) in globalCalls[node] where live[Int(builderStarts[rule])] && live[Int(ret)] {
                calls.append((builderStarts[rule], ret))
            }
            callOffsets.append(Int32(calls.count))
            for (id, to) in globalTokens[node] where live[Int(to)] { tokenEdges.append((id, to)) }
            tokenOffsets.append(Int32(tokenEdges.count))
        }
        start = 0
        trivial = (0..<n).map { !accept[$0] && callOffsets[$0] == callOffsets[$0 + 1] }
        try checkLeftRecursion(names: kept.map { g.names[$0] }, starts: builderStarts)
    }

    /// Rules that can reach themselves through references (these must stay separate automata).
    private static func cyclicRules(_ g: Grammar) -> [Bool] {
        let n = g.rules.count
        var refs = [[Int]](repeating: [], count: n)
        func collect(_ e: GExpr, _ into: inout [Int]) {
            switch e {
            case .rule(let r): into.append(r)
            case .seq(let xs), .alt(let xs): for x in xs { collect(x, &into) }
            case .rep(let x, _, _): collect(x, &into)
            default: break
            }
        }
        for r in 0..<n { collect(g.rules[r], &refs[r]) }
        var out = [Bool](repeating: false, count: n)
        for r in 0..<n {
            var seen = [Bool](repeating: false, count: n)
            var stack = refs[r]
            while let x = stack.popLast() {
                if x == r { out[r] = true; break }
                if x < n && !seen[x] { seen[x] = true; stack += refs[x] }
            }
        }
        return out
    }

    /// A rule that can call itself before consuming a byte would recurse forever: rejected.
    private func checkLeftRecursion(names: [String], starts: [Int32]) throws {
        guard hasCalls else { return }
        let startToRule = Dictionary(uniqueKeysWithValues: starts.enumerated().map { ($0.element, $0.offset) })
        // nullable: the rule can complete without consuming anything.
        var nullable = [Bool](repeating: false, count: starts.count)
        var changed = true
        func epsilonReach(_ s: Int32) -> (nodes: [Int32], callees: [Int]) {
            var seen: Set<Int32> = [s]
            var stack = [s]
            var callees: [Int] = []
            while let x = stack.popLast() {
                for i in callRange(x) {
                    guard let r = startToRule[calls[i].start] else { continue }
                    callees.append(r)
                    if nullable[r] && seen.insert(calls[i].ret).inserted { stack.append(calls[i].ret) }
                }
            }
            return (Array(seen), callees)
        }
        while changed {
            changed = false
            for (r, s) in starts.enumerated() where !nullable[r] {
                if epsilonReach(s).nodes.contains(where: { accept[Int($0)] }) { nullable[r] = true; changed = true }
            }
        }
        let edges = starts.map { epsilonReach($0).callees }
        var state = [UInt8](repeating: 0, count: starts.count)  // 0 new, 1 on path, 2 done
        func visit(_ r: Int) throws {
            state[r] = 1
            for c in edges[r] {
                if state[c] == 1 { throw ConstraintError.unsupported(feature: "left recursion", path: "rule \(names[c])") }
                if state[c] == 0 { try visit(c) }
            }
            state[r] = 2
        }
        for r in 0..<starts.count where state[r] == 0 { try visit(r) }
    }
}

/// Thompson NFA for one rule (inlining non-recursive references).
struct NFA {
    var eps: [[Int32]] = []
    var edges: [[(ByteSet, Int32)]] = []
    var calls: [[(Int, Int32)]] = []
    var tokens: [[(Int32, Int32)]] = []

    mutating func newState() -> Int32 {
        eps.append([]); edges.append([]); calls.append([]); tokens.append([])
        return Int32(eps.count - 1)
    }

    mutating func build(_ e: GExpr, _ s: Int32, _ t: Int32, grammar g: Grammar, keptIndex: [Int: Int], inlineDepth: Int) throws {
        guard eps.count < ByteAutomaton.maxNFAStates else {
            throw ConstraintError.tooLarge("more than \(ByteAutomaton.maxNFAStates) automaton states before determinization")
        }
        switch e {
        case .never: break
        case .empty: eps[Int(s)].append(t)
        case .byte(let set): if !set.isEmpty { edges[Int(s)].append((set, t)) }
        case .token(let id): tokens[Int(s)].append((Int32(id), t))
        case .seq(let xs):
            if xs.isEmpty { eps[Int(s)].append(t); return }
            var cur = s
            for (i, x) in xs.enumerated() {
                let nxt = i == xs.count - 1 ? t : newState()
                try build(x, cur, nxt, grammar: g, keptIndex: keptIndex, inlineDepth: inlineDepth)
                cur = nxt
            }
        case .alt(let xs):
            for x in xs {
                let a = newState(), b = newState()
                eps[Int(s)].append(a)
                try build(x, a, b, grammar: g, keptIndex: keptIndex, inlineDepth: inlineDepth)
                eps[Int(b)].append(t)
            }
        case .rep(let x, let lo, let hi):
            guard lo >= 0, hi.map({ $0 >= lo }) ?? true else { return }
            guard lo <= 10_000, (hi ?? 0) <= 10_000 else { throw ConstraintError.tooLarge("repetition count above 10000") }
            var cur = s
            for _ in 0..<lo {
                let nxt = newState()
                try build(x, cur, nxt, grammar: g, keptIndex: keptIndex, inlineDepth: inlineDepth)
                cur = nxt
            }
            if let hi {
                for _ in lo..<hi {
                    let nxt = newState()
                    eps[Int(cur)].append(t)
                    try build(x, cur, nxt, grammar: g, keptIndex: keptIndex, inlineDepth: inlineDepth)
                    cur = nxt
                }
                eps[Int(cur)].append(t)
            } else {
                let a = newState(), b = newState()
                eps[Int(cur)].append(a)
                eps[Int(a)].append(t)
                try build(x, a, b, grammar: g, keptIndex: keptIndex, inlineDepth: inlineDepth)
                eps[Int(b)].append(a)
            }
        case .rule(let r):
            guard r >= 0 && r < g.rules.count else { return }
            if let k = keptIndex[r] {
                calls[Int(s)].append((k, t))
            } else {
                guard inlineDepth < 10_000 else { throw ConstraintError.tooLarge("rule nesting") }
                try build(g.rules[r], s, t, grammar: g, keptIndex: keptIndex, inlineDepth: inlineDepth + 1)
            }
        }
    }

    func closure(_ set: [Int32]) -> [Int32] {
        var seen = Set(set)
        var stack = set
        while let x = stack.popLast() {
            for y in eps[Int(x)] where seen.insert(y).inserted { stack.append(y) }
        }
        return seen.sorted()
    }

    struct DFA {
        var next: [Int32] = []
        var accept: [Bool] = []
        var calls: [[(Int, Int32)]] = []
        var tokens: [[(Int32, Int32)]] = []

        /// Moore's refinement visits every state per round, and needs a round per state of the longest chain (a
        /// long `const` string or literal): quadratic. Past this many state visits the DFA is kept as determinized,
        /// which is exact, only larger (and a chain is already minimal), so compiling stays near-linear.
        static let refinementBudget = 1 << 16

        /// Merges equivalent states (Moore's partition refinement over bytes, call and token edges). Subset
        /// construction leaves many: every way of finishing a UTF-8 character or a loop body is its own state,
        /// and each would cost a vocabulary walk. The start state stays first.
        func minimized(nodeBase: Int) -> DFA {
            let n = accept.count
            guard n > 1 else { return self }
            // A row as its runs of one target, (first byte, target): most rows are a few byte ranges, so a round's
            // signature is a handful of numbers instead of 256.
            var runStarts: [Int32] = [0]
            var runs: [(byte: Int, to: Int32)] = []
            for st in 0..<n {
                for b in 0..<256 where b == 0 || self.next[st * 256 + b] != self.next[st * 256 + b - 1] {
                    runs.append((b, self.next[st * 256 + b]))
                }
                runStarts.append(Int32(runs.count))
            }
            var cls = accept.map { $0 ? 1 : 0 }
            var count = Set(cls).count
            var visits = 0
            while true {
                visits += n
                if visits > Self.refinementBudget { return self }
                var ids: [[Int]: Int] = [:]
                var next = [Int](repeating: 0, count: n)
                ids.reserveCapacity(n)
                for st in 0..<n {
                    // (first byte, class) wherever the class changes: equal exactly when the 256 classes are.
                    var sig: [Int] = [cls[st]]
                    var last = Int.min
                    for (b, t) in runs[Int(runStarts[st])..<Int(runStarts[st + 1])] {
                        let c = t < 0 ? -1 : cls[Int(t) - nodeBase]
                        if c != last { sig += [b, c]; last = c }
                    }
                    for (r, ret) in calls[st] { sig += [-2, r, cls[Int(ret) - nodeBase]] }
                    for (id, to) in tokens[st] { sig += [-3, Int(id), cls[Int(to) - nodeBase]] }
                    if let c = ids[sig] { next[st] = c } else { next[st] = ids.count; ids[sig] = ids.count }
                }
                cls = next
                if ids.count == count { break }
                count = ids.count
            }
            // Renumber so the start state's class is 0, in first-appearance order.
            var renumber = [Int](repeating: -1, count: count)
            var order = 0
            for st in 0..<n where renumber[cls[st]] < 0 { renumber[cls[st]] = order; order += 1 }
            var out = DFA()
            out.next = [Int32](repeating: -1, count: count * 256)
            out.accept = [Bool](repeating: false, count: count)
            out.calls = [[(Int, Int32)]](repeating: [], count: count)
            out.tokens = [[(Int32, Int32)]](repeating: [], count: count)
            var done = [Bool](repeating: false, count: count)
            for st in 0..<n {
                let c = renumber[cls[st]]
                guard !done[c] else { continue }
                done[c] = true
                out.accept[c] = accept[st]
                for b in 0..<256 {
                    let t = self.next[st * 256 + b]
                    if t >= 0 { out.next[c * 256 + b] = Int32(nodeBase + renumber[cls[Int(t) - nodeBase]]) }
                }
                out.calls[c] = calls[st].map { ($0.0, Int32(nodeBase + renumber[cls[Int($0.1) - nodeBase]])) }
                out.tokens[c] = tokens[st].map { ($0.0, Int32(nodeBase + renumber[cls[Int($0.1) - nodeBase]])) }
            }
            return out
        }
    }

    /// Subset construction over bytes; call and token edges become labelled edges of the DFA state.
    func determinize(start: Int32, accept acc: Int32, nodeBase: Int) throws -> DFA {
        var dfa = DFA()
        var ids: [[Int32]: Int32] = [:]
        var sets: [[Int32]] = []
        func intern(_ s: [Int32]) throws -> Int32 {
            if let id = ids[s] { return id }
            let id = Int32(nodeBase + sets.count)
            guard sets.count < ByteAutomaton.maxNodes else {
                throw ConstraintError.tooLarge("more than \(ByteAutomaton.maxNodes) automaton states")
            }
            ids[s] = id
            sets.append(s)
            return id
        }
        _ = try intern(closure([start]))
        var i = 0
        while i < sets.count {
            let set = sets[i]
            i += 1
            var row = [Int32](repeating: -1, count: 256)
            var outEdges: [(ByteSet, Int32)] = []
            for x in set { outEdges += edges[Int(x)] }
            if !outEdges.isEmpty {
                var memo: [[Int32]: Int32] = [:]
                for b in 0..<256 {
                    var targets: [Int32] = []
                    for (bs, to) in outEdges where bs.contains(UInt8(b)) { targets.append(to) }
                    guard !targets.isEmpty else { continue }
                    if let m = memo[targets] { row[b] = m; continue }
                    let id = try intern(closure(targets))
                    memo[targets] = id
                    row[b] = id
                }
            }
            var callTargets: [Int: [Int32]] = [:]
            var order: [Int] = []
            var tokenTargets: [Int32: [Int32]] = [:]
            var tokenOrder: [Int32] = []
            for x in set {
                for (r, to) in calls[Int(x)] {
                    if callTargets[r] == nil { order.append(r) }
                    callTargets[r, default: []].append(to)
                }
                for (id, to) in tokens[Int(x)] {
                    if tokenTargets[id] == nil { tokenOrder.append(id) }
                    tokenTargets[id, default: []].append(to)
                }
            }
            var c: [(Int, Int32)] = []
            for r in order { c.append((r, try intern(closure(callTargets[r] ?? [])))) }
            var t: [(Int32, Int32)] = []
            for id in tokenOrder { t.append((id, try intern(closure(tokenTargets[id] ?? [])))) }
            dfa.next += row
            dfa.accept.append(set.contains(acc))
            dfa.calls.append(c)
            dfa.tokens.append(t)
        }
        return dfa
    }
}
