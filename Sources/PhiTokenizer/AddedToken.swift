/// An HF added token (tokenizer.json `added_tokens`, tokenizer_config `added_tokens_decoder`).
public struct AddedToken: Sendable, Equatable, Codable {
    public var id: Int
    public var content: String
    /// Removed by `decode(skipSpecial: true)`.
    public var special: Bool
    /// When matched, also absorbs the whitespace to its left.
    public var lstrip: Bool
    /// When matched, also absorbs the whitespace to its right (`"<|user|>\nHi"` encodes like `"<|user|>Hi"`).
    public var rstrip: Bool
    /// Matched only when not adjacent to a word character.
    public var singleWord: Bool
    /// Matched after normalization (a second pass, as HF does).
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
                singleWord: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
        self.normalized = normalized
    }
}
