import Foundation
import PhiTokenizer

extension Constraint {
    /// Compiles for `tokenizer` (cached per constraint and tokenizer). Throws `ConstraintError` for a malformed,
    /// unsupported or unsatisfiable constraint; never runs a model.
    /// `useCache: false` compiles afresh (the vocabulary trie is still shared), e.g. to time preprocessing.
    public func compile(for tokenizer: Tokenizer, useCache: Bool = true) throws -> CompiledConstraint {
        try ConstraintCache.shared.compiled(self, tokenizer: tokenizer, useCache: useCache)
    }

    /// Checks the constraint (and warms the cache for a following generation).
    public func validate(for tokenizer: Tokenizer) throws {
        _ = try compile(for: tokenizer)
    }

    /// The grammar and, for tool calls, the token that must end the output.
    func grammar(vocabulary v: TokenVocabulary) throws -> (Grammar, Set<Int>?) {
        switch self {
        case .jsonSchema(let text): return (try JSONSchemaCompiler.grammar(schema: text), nil)
        case .jsonObject: return (JSONSchemaCompiler.anyObjectGrammar(), nil)
        case .regex(let pattern):
            var g = Grammar()
            _ = g.add("root")
            g.rules[0] = try RegexParser.parse(pattern)
            return (g, nil)
        case .grammar(let text): return (try GrammarParser.parse(text, addedTokens: v.addedTokenIDs), nil)
        case .toolCall(let tools, let name):
            let g = try ToolCallGrammar.grammar(tools: tools, name: name, vocabulary: v)
            return (g, v.addedTokenIDs["<|end|>"].map { [$0] })
        }
    }
}

/// Compiled constraints per (constraint, tokenizer), and the vocabulary trie per tokenizer.
///
/// It keeps at most `capacity` constraints, holding at most `byteBudget` bytes together by their `memoryBound`; one
/// bounded above half the budget is compiled for each request and not kept. A count alone let 64 large schemas pin
/// gigabytes (an automaton can have 50,000 nodes of 1 KB, each with a token mask of 25 KB for Phi's vocabulary), so
/// a client sending distinct large schemas could have made a server hold them all.
final class ConstraintCache: @unchecked Sendable {
    static let shared = ConstraintCache()
    let capacity: Int
    let byteBudget: Int

    init(capacity: Int = 64, byteBudget: Int = 256 << 20) {
        self.capacity = capacity
        self.byteBudget = byteBudget
    }

    private let lock = NSLock()
    private struct TrieEntry { weak var tokenizer: Tokenizer?; let trie: VocabularyTrie }
    private var tries: [ObjectIdentifier: TrieEntry] = [:]
    private struct Key: Hashable { let constraint: Constraint; let tokenizer: ObjectIdentifier }
    private var compiled: [Key: CompiledConstraint] = [:]
    private var order: [Key] = []
    private var bytes = 0

    /// Kept constraints and the sum of their memory bounds.
    var usage: (count: Int, bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (compiled.count, bytes)
    }

    func trie(for tokenizer: Tokenizer) -> VocabularyTrie {
        let id = ObjectIdentifier(tokenizer)
        lock.lock()
        if let e = tries[id], e.tokenizer === tokenizer { lock.unlock(); return e.trie }
        lock.unlock()
        let t = VocabularyTrie(vocabulary: tokenizer.vocabulary())
        lock.lock()
        tries = tries.filter { $0.value.tokenizer != nil }
        tries[id] = TrieEntry(tokenizer: tokenizer, trie: t)
        lock.unlock()
        return t
    }

    func compiled(_ c: Constraint, tokenizer: Tokenizer, useCache: Bool = true) throws -> CompiledConstraint {
        let trie = trie(for: tokenizer)
        let key = Key(constraint: c, tokenizer: ObjectIdentifier(tokenizer))
        lock.lock()
        if useCache, let hit = compiled[key], hit.trie === trie { lock.unlock(); return hit }
        lock.unlock()
        let (grammar, end) = try c.grammar(vocabulary: trie.vocabulary)
        let automaton = try ByteAutomaton(grammar: grammar)
        let result = CompiledConstraint(constraint: c, automaton: automaton, trie: trie, endTokenIDs: end)
        guard result.memoryBound <= byteBudget / 2 else { return result }
        lock.lock()
        if let old = compiled.updateValue(result, forKey: key) { bytes -= old.memoryBound } else { order.append(key) }
        bytes += result.memoryBound
        while order.count > capacity || bytes > byteBudget, !order.isEmpty {
            if let evicted = compiled.removeValue(forKey: order.removeFirst()) { bytes -= evicted.memoryBound }
        }
        lock.unlock()
        return result
    }
}
