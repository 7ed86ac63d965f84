import Foundation
import PhiTokenizer

/// A constraint compiled for one tokenizer: the byte automaton, the vocabulary trie and, per automaton node, the
/// tokens it accepts independently of the stack below (computed once, shared by every generation). Immutable
/// apart from the lazily filled per-node table (guarded by a lock), so one instance serves concurrent matchers.
public final class CompiledConstraint: @unchecked Sendable {
    let automaton: ByteAutomaton
    let trie: VocabularyTrie
    public let constraint: Constraint
    public var vocabularySize: Int { trie.vocabularySize }
    /// Added tokens that end the output when it is complete (a tool call ends with `<|end|>`); nil: the caller's
    /// stop tokens.
    public let endTokenIDs: Set<Int>?
    /// Number of automaton nodes (for reports).
    public var stateCount: Int { automaton.nodeCount }
    /// The most memory this constraint holds, about: the automaton's tables and one dense token mask per node. Masks
    /// of automata past `eagerNodeLimit` fill as generation visits nodes, so this bounds them rather than measuring.
    public let memoryBound: Int

    /// Tokens a node accepts without popping its frame, and where a pop leaves bytes for the stack below.
    final class NodeMask: @unchecked Sendable {
        let dense: [UInt64]?
        let sparse: [Int32]
        /// (trie node, depth): tokens below that node continue after the frame returns.
        let escapes: [(node: Int32, depth: UInt16)]

        init(words: [UInt64], escapes: [(Int32, UInt16)], vocabularySize: Int) {
            let n = words.reduce(0) { $0 + $1.nonzeroBitCount }
            if n * 32 < vocabularySize {
                var ids: [Int32] = []
                ids.reserveCapacity(n)
                for (i, w) in words.enumerated() {
                    var x = w
                    while x != 0 { ids.append(Int32(i * 64 + x.trailingZeroBitCount)); x &= x - 1 }
                }
                sparse = ids
                dense = nil
            } else {
                sparse = []
                dense = words
            }
            self.escapes = escapes.map { (node: $0.0, depth: $0.1) }
        }

        func add(to mask: inout TokenMask) {
            if let dense { dense.withUnsafeBufferPointer { mask.formUnion(words: $0) } } else { for id in sparse { mask.insert(Int(id)) } }
        }
    }

    private let lock = NSLock()
    private var nodeMasks: [NodeMask?]

    /// Automata with at most this many nodes have every node precomputed at compile time (steady per-token
    /// latency); larger ones fill the table lazily. Unoptimized (debug) builds always fill lazily: a trie walk
    /// there is two orders of magnitude slower, and tests visit few nodes.
    #if DEBUG
    static let eagerNodeLimit = 0
    #else
    static let eagerNodeLimit = 4_000
    #endif

    init(constraint: Constraint, automaton: ByteAutomaton, trie: VocabularyTrie, endTokenIDs: Set<Int>?) {
        self.constraint = constraint
        self.automaton = automaton
        self.trie = trie
        self.endTokenIDs = endTokenIDs
        nodeMasks = [NodeMask?](repeating: nil, count: automaton.nodeCount)
        memoryBound = automaton.byteCount + automaton.nodeCount * ((trie.vocabularySize + 63) / 64 * 8)
        if automaton.nodeCount <= Self.eagerNodeLimit {
            // Independent per node: spread over the cores (results written under the lock).
            let n = automaton.nodeCount
            let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var node = w
                while node < n {
                    let m = computeNodeMask(Int32(node))
                    lock.lock()
                    nodeMasks[node] = m
                    lock.unlock()
                    node += workers
                }
            }
        }
    }

    func nodeMask(_ n: Int32) -> NodeMask {
        lock.lock()
        if let m = nodeMasks[Int(n)] { lock.unlock(); return m }
        lock.unlock()
        let m = computeNodeMask(n)
        lock.lock()
        nodeMasks[Int(n)] = m
        lock.unlock()
        return m
    }

    private func computeNodeMask(_ n: Int32) -> NodeMask {
        var words = [UInt64](repeating: 0, count: (trie.vocabularySize + 63) / 64)
        if !automaton.hasCalls {
            TrieWalker.dfa(automaton, trie, from: n, into: &words)
            for i in automaton.tokenRange(n) { set(&words, Int(automaton.tokenEdges[i].id)) }
            return NodeMask(words: words, escapes: [], vocabularySize: trie.vocabularySize)
        }
        var arena = StackArena()
        var level0 = ConfigStepper.Expansion()
        ConfigStepper(a: automaton).expand([StackConfig(parent: StackArena.base, top: n)], arena: &arena, into: &level0)
        var escapes: [(Int32, UInt16)] = []
        if level0.escaped { escapes.append((-1, 0)) }
        for c in level0.configs {
            for i in automaton.tokenRange(c.top) { set(&words, Int(automaton.tokenEdges[i].id)) }
        }
        TrieWalker.stack(automaton, trie, level0: level0.configs, range: 0, trie.nodeCount, baseDepth: 0,
                         arena: &arena, into: &words) { escapes.append(($0, $1)) }
        return NodeMask(words: words, escapes: escapes, vocabularySize: trie.vocabularySize)
    }

    @inline(__always) private func set(_ words: inout [UInt64], _ id: Int) {
        if id >= 0 && id < trie.vocabularySize { words[id >> 6] |= UInt64(1) << UInt64(id & 63) }
    }

    /// A fresh matcher at the start of the output.
    public func makeMatcher() -> ConstraintMatcher { ConstraintMatcher(self) }
}
