/// The vocabulary as bytes, for grammar-constrained decoding: a constraint decides token by token whether the
/// token's decoded bytes keep the output a valid prefix, so it needs every id's bytes and which ids are added
/// tokens (matched as a whole, never spelled out by bytes).
public struct TokenVocabulary: Sendable {
    /// Number of ids (dense; ids without a string have empty bytes).
    public let count: Int
    /// Bytes of id `i`: `bytes[offsets[i] ..< offsets[i + 1]]` (what `decode` produces for that id alone).
    public let offsets: [Int]
    public let bytes: [UInt8]
    /// Added tokens (`<|end|>`, `<|tool_call|>`, ...), special or not: a grammar must name them to allow them.
    public let isAdded: [Bool]
    /// Added tokens flagged `special` (removed by `decode(skipSpecial: true)`).
    public let isSpecial: [Bool]
    /// Added-token content to id.
    public let addedTokenIDs: [String: Int]

    /// The bytes of one id (empty for unknown ids).
    public func tokenBytes(_ id: Int) -> ArraySlice<UInt8> {
        guard id >= 0 && id < count else { return [] }
        return bytes[offsets[id]..<offsets[id + 1]]
    }
}

extension Tokenizer {
    /// The whole vocabulary as decoded bytes per id, added tokens flagged (built on each call; callers cache it).
    public func vocabulary() -> TokenVocabulary {
        var added = [Bool](repeating: false, count: vocabularySize)
        var ids: [String: Int] = [:]
        for t in addedTokens where t.id >= 0 && t.id < vocabularySize {
            added[t.id] = true
            ids[t.content] = t.id
        }
        return TokenVocabulary(count: vocabularySize, offsets: decodeOffsets, bytes: decodeBytes, isAdded: added,
                               isSpecial: specialFlags, addedTokenIDs: ids)
    }
}
