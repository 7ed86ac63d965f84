/// One sequence's share of a batched forward pass: its new tokens (one when decoding; more for a prompt chunk
/// or a speculative draft), the cache they follow, which logits it wants and its multimodal conditioning.
/// Every item of a batch must have its own cache.
public struct BatchItem: @unchecked Sendable {
    public var tokens: [Int]
    public var cache: KVCache
    public var logits: LogitsRequest
    public var conditioning: Conditioning?

    public init(tokens: [Int], cache: KVCache, logits: LogitsRequest = .last, conditioning: Conditioning? = nil) {
        self.tokens = tokens
        self.cache = cache
        self.logits = logits
        self.conditioning = conditioning
    }
}
