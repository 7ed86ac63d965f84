import PhiNN

/// Token ids ready for generation, with the conditioning (spliced features + LoRA) a multimodal prompt needs.
public struct PreparedPrompt: @unchecked Sendable {
    public let tokens: [Int]
    /// Nil for text-only prompts (base weights, no LoRA).
    public let conditioning: Conditioning?
    /// Tokens each image expanded to, in order.
    public let imageTokenCounts: [Int]
    /// Tokens each audio clip expanded to, in order.
    public var audioTokenCounts: [Int] = []
    /// Seconds of audio in the prompt.
    public var audioSeconds: Double = 0

    public init(tokens: [Int], conditioning: Conditioning? = nil, imageTokenCounts: [Int] = [], audioTokenCounts: [Int] = [],
                audioSeconds: Double = 0) {
        self.tokens = tokens
        self.conditioning = conditioning
        self.imageTokenCounts = imageTokenCounts
        self.audioTokenCounts = audioTokenCounts
        self.audioSeconds = audioSeconds
    }
}
