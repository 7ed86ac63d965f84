/// One matcher configuration: the current automaton node and the stack of return nodes below it (an id in a
/// `StackArena`, or one of the sentinels).
struct StackConfig: Hashable, Sendable {
    var parent: Int32
    var top: Int32
}

/// Interned call stacks as a persistent tree: entry i is (parent entry, return node). Sharing means a push is one
/// hash lookup and configurations compare by id.
struct StackArena {
    /// The stack is empty: finishing the current rule completes the output.
    static let bottom: Int32 = -1
    /// Below a frame whose context is unknown (per-node precomputation): popping it is an "escape".
    static let base: Int32 = -2
    /// Deeper nesting is not explored (the output would need more than this many open recursive rules).
    static let maxDepth: Int32 = 512

    private(set) var parent: [Int32] = []
    private(set) var node: [Int32] = []
    private(set) var depth: [Int32] = []
    private var index: [UInt64: Int32] = [:]

    var count: Int { parent.count }

    mutating func push(_ p: Int32, _ ret: Int32) -> Int32? {
        let key = UInt64(UInt32(bitPattern: p)) << 32 | UInt64(UInt32(bitPattern: ret))
        if let id = index[key] { return id }
        let d = p >= 0 ? depth[Int(p)] + 1 : 1
        guard d <= StackArena.maxDepth else { return nil }
        let id = Int32(parent.count)
        parent.append(p)
        node.append(ret)
        depth.append(d)
        index[key] = id
        return id
    }
}

/// Closure and byte steps over sets of configurations (the pushdown part of the matcher).
struct ConfigStepper {
    let a: ByteAutomaton

    struct Expansion {
        var configs: [StackConfig] = []
        /// Some configuration can pop below `StackArena.base`.
        var escaped = false
        /// Some configuration can finish with an empty stack.
        var complete = false
    }

    /// Every configuration reachable without consuming input: entering called rules, returning from finished ones.
    func expand(_ start: [StackConfig], arena: inout StackArena, into out: inout Expansion) {
        out.configs.removeAll(keepingCapacity: true)
        out.escaped = false
        out.complete = false
        var work = start
        while let c = work.popLast() {
            if out.configs.contains(c) { continue }
            out.configs.append(c)
            for i in a.callRange(c.top) {
                if let p = arena.push(c.parent, a.calls[i].ret) { work.append(StackConfig(parent: p, top: a.calls[i].start)) }
            }
            if a.accept[Int(c.top)] {
                if c.parent == StackArena.base {
                    out.escaped = true
                } else if c.parent == StackArena.bottom {
                    out.complete = true
                } else {
                    work.append(StackConfig(parent: arena.parent[Int(c.parent)], top: arena.node[Int(c.parent)]))
                }
            }
        }
    }

    /// Configurations after one byte from expanded configurations (deduplicated).
    @inline(__always)
    func step(_ configs: [StackConfig], _ b: UInt8, into out: inout [StackConfig]) {
        out.removeAll(keepingCapacity: true)
        for c in configs {
            let t = a.step(c.top, b)
            if t >= 0 {
                let n = StackConfig(parent: c.parent, top: t)
                if !out.contains(n) { out.append(n) }
            }
        }
    }
}
