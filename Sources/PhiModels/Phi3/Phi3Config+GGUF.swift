import Foundation
import PhiKernels
import PhiWeights

extension Phi3Config {
    /// Hyperparameters of a llama.cpp `phi3` GGUF (keys `phi3.*`). The LongRoPE factors live in the
    /// rope_factors_{long,short} tensors and are bound with the weights.
    public init(gguf f: GGUFFile, vocabSize: Int) throws {
        let a = "phi3"
        let hidden = try f.int("\(a).embedding_length")
        let heads = try f.int("\(a).attention.head_count")
        guard heads > 0, hidden > 0, hidden % heads == 0 else {
            throw ModelError.malformedConfig(file: f.path, reason: "embedding_length \(hidden) / head_count \(heads)")
        }
        let headDim = hidden / heads
        let rot = try f.int("\(a).rope.dimension_count", default: headDim)
        let context = try f.int("\(a).context_length")
        let original = try f.int("\(a).rope.scaling.original_context_length", default: context)
        var j: [String: Any] = [
            "model_type": "phi3",
            "vocab_size": vocabSize,
            "hidden_size": hidden,
            "intermediate_size": try f.int("\(a).feed_forward_length"),
            "num_hidden_layers": try f.int("\(a).block_count"),
            "num_attention_heads": heads,
            "num_key_value_heads": try f.int("\(a).attention.head_count_kv", default: heads),
            "rms_norm_eps": Double(try f.float("\(a).attention.layer_norm_rms_epsilon")),
            "rope_theta": try f.double("\(a).rope.freq_base"),
            "partial_rotary_factor": Double(rot) / Double(headDim),
            "max_position_embeddings": context,
            "original_max_position_embeddings": original,
            "tie_word_embeddings": !f.contains("output.weight"),
        ]
        let window = try f.int("\(a).attention.sliding_window", default: 0)
        if window > 0 { j["sliding_window"] = window }
        if f.hasKey("\(a).rope.scaling.attn_factor") {
            // Carried into the LongRoPE definition when the factor tensors are bound.
            j["rope_scaling"] = ["type": "default", "attention_factor": Double(try f.float("\(a).rope.scaling.attn_factor"))]
        }
        try self.init(json: j, file: f.path)
    }
}
