import PhiKernels
import PhiNN

/// Which logits a forward pass returns.
public enum LogitsRequest: Sendable {
    case none
    case last
    case all
}

/// Called at block boundaries with a layer's activations [rows, cols] so a mismatch can be bisected
/// against the reference layer by layer. Names: "embeddings", "layer" (output of block `layer`), "final_norm".
public typealias ActivationTap = (_ name: String, _ layer: Int, _ values: UnsafeBufferPointer<Float>, _ rows: Int, _ cols: Int) -> Void

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
    func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest, tap: ActivationTap?) throws -> [Float]
}

extension LanguageModel {
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest = .last) throws -> [Float] {
        try forward(tokens, cache: cache, logits: logits, tap: nil)
    }
}
