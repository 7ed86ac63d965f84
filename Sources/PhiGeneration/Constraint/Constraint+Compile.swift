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
final class ConstraintCache: @unchecked Sendable {
    static let shared = ConstraintCache()
    static let capacity = 64

    private let lock = NSLock()
    private struct TrieEntry { weak var tokenizer: Tokenizer?; let trie: VocabularyTrie }
    private var tries: [ObjectIdentifier: TrieEntry] = [:]
    private struct Key: Hashable { let constraint: Constraint; let tokenizer: ObjectIdentifier }
    private var compiled: [Key: CompiledConstraint] = [:]
    private var order: [Key] = []

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
        lock.lock()
        if compiled[key] == nil { order.append(key) }
        compiled[key] = result
        while order.count > Self.capacity { compiled[order.removeFirst()] = nil }
        lock.unlock()
        return result
    }
}
