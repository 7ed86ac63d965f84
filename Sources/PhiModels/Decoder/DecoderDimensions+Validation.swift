/// Upper bounds on the sizes a model config may declare. Far above any model PhiKit runs (Phi-4-mini: hidden
/// 3072, 24 heads of 128, 200,064 tokens, 131,072 positions; the largest published decoders stay below a tenth
/// of each), yet low enough that no product of them the decoder forms can overflow. A config beyond them
/// describes nothing a file could hold, so it is an error before any tensor is read (issue 10: head counts and
/// head_dim whose products wrapped modulo 2^64 to the real tensor sizes passed every shape check).
public enum ConfigLimits {
    /// hidden_size, intermediate_size, head_dim.
    public static let dimension = 1 << 20
    /// num_attention_heads, num_key_value_heads.
    public static let heads = 1 << 16
    /// num_hidden_layers.
    public static let layers = 1 << 16
    /// vocab_size.
    public static let vocabulary = 1 << 24
    /// max_position_embeddings (and the positions a window or the original context may name).
    public static let positions = 1 << 24
}

/// The sizes a decoder derives from its dimensions, each computed with overflow reported.
public struct DecoderSizes: Sendable, Equatable {
    /// num_attention_heads × head_dim: q rows, o_proj columns.
    public var queryWidth: Int
    /// num_key_value_heads × head_dim: k and v rows.
    public var keyValueWidth: Int
    /// queryWidth + 2 × keyValueWidth: rows of a fused qkv_proj.
    public var qkvWidth: Int
    /// 2 × intermediate_size: rows of a fused gate_up_proj.
    public var gateUpWidth: Int
}

extension DecoderDimensions {
    /// Checks every dimension against `ConfigLimits` and computes the derived sizes with overflow reported.
    /// Errors are `ModelError.malformedConfig` naming `file` and the field by its Hugging Face name, followed
    /// by the key it was read from where that differs (`ggufKeys`: HF name → GGUF key).
    @discardableResult
    public func validate(file: String, ggufKeys: [String: String] = [:]) throws -> DecoderSizes {
        func name(_ field: String) -> String { ggufKeys[field].map { "'\(field)' (\($0))" } ?? "'\(field)'" }
        func bad(_ reason: String) -> ModelError { .malformedConfig(file: file, reason: reason) }
        let fields: [(String, Int, Int)] = [
            ("vocab_size", vocabSize, ConfigLimits.vocabulary), ("hidden_size", hiddenSize, ConfigLimits.dimension),
            ("intermediate_size", intermediateSize, ConfigLimits.dimension),
            ("num_hidden_layers", numHiddenLayers, ConfigLimits.layers),
            ("num_attention_heads", numAttentionHeads, ConfigLimits.heads),
            ("num_key_value_heads", numKeyValueHeads, ConfigLimits.heads), ("head_dim", headDim, ConfigLimits.dimension),
            ("max_position_embeddings", contextLength, ConfigLimits.positions),
        ]
        for (field, value, limit) in fields {
            guard value > 0 else { throw bad("\(name(field)) must be positive, got \(value)") }
            guard value <= limit else {
                throw bad("\(name(field)) is \(value), above PhiKit's limit of \(limit) (no model comes near it)")
            }
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw bad("\(name("num_attention_heads")) \(numAttentionHeads) is not a multiple of \(name("num_key_value_heads")) \(numKeyValueHeads): the kv heads must each serve as many query heads")
        }
        guard slidingWindow >= 0 else { throw bad("\(name("sliding_window")) must not be negative, got \(slidingWindow)") }
        func product(_ a: Int, _ b: Int, _ what: String) throws -> Int {
            let (p, overflow) = a.multipliedReportingOverflow(by: b)
            guard !overflow else { throw bad("\(what) (\(a) × \(b)) overflows") }
            return p
        }
        let q = try product(numAttentionHeads, headDim, "\(name("num_attention_heads")) × \(name("head_dim"))")
        let kv = try product(numKeyValueHeads, headDim, "\(name("num_key_value_heads")) × \(name("head_dim"))")
        let kv2 = try product(2, kv, "2 × \(name("num_key_value_heads")) × \(name("head_dim"))")
        let (qkv, overflow) = q.addingReportingOverflow(kv2)
        guard !overflow else { throw bad("the q/k/v width (\(q) + \(kv2)) overflows") }
        let gateUp = try product(2, intermediateSize, "2 × \(name("intermediate_size"))")
        _ = try product(vocabSize, hiddenSize, "\(name("vocab_size")) × \(name("hidden_size"))")
        return DecoderSizes(queryWidth: q, keyValueWidth: kv, qkvWidth: qkv, gateUpWidth: gateUp)
    }
}

extension DecoderDimensions {
    /// The llama.cpp GGUF keys (architecture `arch`) the Hugging Face fields are read from, for messages.
    public static func ggufKeys(_ arch: String) -> [String: String] {
        ["vocab_size": "rows of token_embd.weight", "hidden_size": "\(arch).embedding_length",
         "intermediate_size": "\(arch).feed_forward_length", "num_hidden_layers": "\(arch).block_count",
         "num_attention_heads": "\(arch).attention.head_count", "num_key_value_heads": "\(arch).attention.head_count_kv",
         "max_position_embeddings": "\(arch).context_length", "sliding_window": "\(arch).attention.sliding_window"]
    }
}
