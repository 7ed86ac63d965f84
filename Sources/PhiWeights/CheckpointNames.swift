/// The one table that maps checkpoint tensor names across layouts. Models bind by their Hugging Face
/// name; GGUF files (as llama.cpp's converter writes them) use the names on the right.
public enum CheckpointNames {
    static let global: [String: String] = [
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    ]

    /// Per-layer suffixes: `model.layers.{i}.<hf>` ↔ `blk.{i}.<gguf>`.
    /// Phi-3's fused `mlp.gate_up_proj` is stored by llama.cpp as `ffn_up` (twice the width, [gate | up]).
    static let layer: [String: String] = [
        "input_layernorm.weight": "attn_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "self_attn.qkv_proj.weight": "attn_qkv.weight",
        "self_attn.q_proj.weight": "attn_q.weight",
        "self_attn.k_proj.weight": "attn_k.weight",
        "self_attn.v_proj.weight": "attn_v.weight",
        "self_attn.o_proj.weight": "attn_output.weight",
        "mlp.gate_up_proj.weight": "ffn_up.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight",
        "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
    ]

    /// GGUF-only tensors with no Hugging Face counterpart keep their own name.
    public static let ggufOnly: Set<String> = ["rope_factors_long.weight", "rope_factors_short.weight"]

    /// The GGUF name of a Hugging Face tensor name (nil when there is none).
    public static func gguf(fromHF name: String) -> String? {
        if let g = global[name] { return g }
        if ggufOnly.contains(name) { return name }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]), index >= 0,
              let suffix = layer[String(rest[rest.index(after: dot)...])] else { return nil }
        return "blk.\(index).\(suffix)"
    }
}
