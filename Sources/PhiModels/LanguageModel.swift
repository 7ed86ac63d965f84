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
    /// Runs several sequences, each with its own cache, tokens, logits request and conditioning, and returns
    /// each one's logits as `forward` would. Models that batch read each weight once for all rows; the default
    /// runs the items one after another. Implementations should check every item before running any (the
    /// decoder does), so that a thrown error leaves every cache as it was and a caller can retry items alone.
    func forward(batch: [BatchItem]) throws -> [[Float]]
    /// Sequence length up to which every position uses one rotary regime (LongRoPE's short factors); nil when
    /// the model has a single regime. A pass crossing it is recomputed under the other one, so it is not the
    /// same computation as one token at a time: speculative drafts stop short of it.
    var ropeRegimeBoundary: Int? { get }
}

extension LanguageModel {
    public func forward(batch: [BatchItem]) throws -> [[Float]] {
        try batch.map { try forward($0.tokens, cache: $0.cache, logits: $0.logits, tap: nil, conditioning: $0.conditioning) }
    }

    public var ropeRegimeBoundary: Int? { nil }

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
    public func forward(batch: [BatchItem]) throws -> [[Float]] { try decoder.forward(batch: batch) }
    public var ropeRegimeBoundary: Int? {
        if case .longRoPE(_, _, let original) = decoder.rotary.kind { return original }
        return nil
    }
}
