import PhiKernels
import PhiNN

/// A causal language model: immutable weights, per-sequence state in a KVCache passed in.
public protocol LanguageModel: AnyObject, Sendable {
    var vocabularySize: Int { get }
    /// Longest sequence the model accepts (max_position_embeddings).
    var contextLength: Int { get }
    var hiddenSize: Int { get }
    var parallel: Parallel { get }
    func makeCache(maxLength: Int?) -> KVCache
    /// Runs `tokens` after what `cache` holds, appends them to the cache, and returns logits
    /// ([1, vocab] for .last, [tokens.count, vocab] for .all) as a flat array.
    func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest, tap: ActivationTap?,
                 conditioning: Conditioning?) throws -> [Float]
}

extension LanguageModel {
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest = .last,
                        conditioning: Conditioning? = nil) throws -> [Float] {
        try forward(tokens, cache: cache, logits: logits, tap: nil, conditioning: conditioning)
    }

    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest, tap: ActivationTap?) throws -> [Float] {
        try forward(tokens, cache: cache, logits: logits, tap: tap, conditioning: nil)
    }
}

/// A model defined by binding weights into the shared `TransformerDecoder`.
public protocol DecoderLanguageModel: LanguageModel {
    var decoder: TransformerDecoder { get }
}

extension DecoderLanguageModel {
    public var vocabularySize: Int { decoder.vocabularySize }
    /// Weight bytes one generated token reads (see `TransformerDecoder.weightBytesPerToken`).
    public var weightBytesPerToken: Int { decoder.weightBytesPerToken }
    public var contextLength: Int { decoder.contextLength }
    public var hiddenSize: Int { decoder.hiddenSize }
    public var parallel: Parallel { decoder.parallel }
    public func makeCache(maxLength: Int?) -> KVCache { decoder.makeCache(maxLength: maxLength) }
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest, tap: ActivationTap?,
                        conditioning: Conditioning?) throws -> [Float] {
        try decoder.forward(tokens, cache: cache, logits: logits, tap: tap, conditioning: conditioning)
    }
}
