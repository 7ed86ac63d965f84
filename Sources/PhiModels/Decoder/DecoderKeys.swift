/// Canonical checkpoint keys of a decoder-only model (the Hugging Face layout that Phi-3 and Llama share).
/// GGUF files are read through the name table in PhiWeights (`CheckpointNames`), so they bind by these too.
public enum DecoderKeys {
    public static let embedTokens = "model.embed_tokens.weight"
    public static let norm = "model.norm.weight"
    public static let lmHead = "lm_head.weight"
    public static func layer(_ i: Int, _ suffix: String) -> String { "model.layers.\(i).\(suffix)" }
}
