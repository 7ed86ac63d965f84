import Foundation
import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Phi-3 architecture (Phi3ForCausalLM): Phi-4-mini, Phi-3, Phi-3.5-mini.
/// Pre-norm decoder blocks: fused qkv + partial rotary (LongRoPE) + GQA attention, fused gate_up SiLU MLP,
/// optionally tied output head. Binds Hugging Face names; GGUF files are read through the name table.
public final class Phi3Model: DecoderLanguageModel, @unchecked Sendable {
    public let config: Phi3Config
    public let decoder: TransformerDecoder

    /// Canonical checkpoint keys (Hugging Face layout).
    public enum Keys {
        public static let embedTokens = "model.embed_tokens.weight"
        public static let norm = "model.norm.weight"
        public static let lmHead = "lm_head.weight"
        public static func layer(_ i: Int, _ suffix: String) -> String { "model.layers.\(i).\(suffix)" }
    }

    public convenience init(directory: URL, parallel: Parallel = Parallel()) throws {
        let config = try Phi3Config.load(directory: directory)
        let store = try WeightStore(directory: directory)
        try self.init(config: config, weights: store, parallel: parallel)
    }

    /// Binds every parameter by name with its shape checked; any checkpoint tensor left unused is an error.
    public init(config c: Phi3Config, weights w: TensorSource, parallel: Parallel = Parallel(),
                transform: WeightTransform? = nil) throws {
        config = c
        decoder = try Phi3Model.makeDecoder(config: c, weights: w, parallel: parallel, transform: transform)
        let unused = w.unusedNames()
        guard unused.isEmpty else { throw ModelError.unexpectedWeights(unused) }
    }

    /// The Phi-3 decoder bound from `w` (canonical names), shapes checked. Models that hold more than the
    /// language model (Phi-4-multimodal) bind the rest themselves and then check for unused tensors.
    public static func makeDecoder(config c: Phi3Config, weights w: TensorSource, parallel: Parallel,
                                   transform: WeightTransform?) throws -> TransformerDecoder {
        let H = c.hiddenSize, D = c.headDim
        let qkvRows = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * D
        func t(_ name: String, _ shape: [Int]) throws -> Tensor { try w.tensor(name, shape: shape) }
        func linear(_ name: String, _ shape: [Int]) throws -> Linear {
            let tensor = try t(name, shape)
            return try Linear(weight: transform?(name, tensor) ?? tensor, name: name)
        }

        let embedding = Embedding(table: try t(Keys.embedTokens, [c.vocabSize, H]))   // [V, H]
        var blocks: [DecoderBlock] = []
        let window = (c.slidingWindow ?? 0) < c.maxPositionEmbeddings ? (c.slidingWindow ?? 0) : 0
        for i in 0..<c.numHiddenLayers {
            let L = { (s: String) in Keys.layer(i, s) }
            let qkv = try linear(L("self_attn.qkv_proj.weight"), [qkvRows, H])                 // [(nH+2nKV)·D, H]
            let o = try linear(L("self_attn.o_proj.weight"), [H, c.numAttentionHeads * D])     // [H, nH·D]
            blocks.append(DecoderBlock(
                inputNorm: RMSNorm(weight: try t(L("input_layernorm.weight"), [H]), eps: c.rmsNormEps),
                attention: Attention(projection: .fused(qkv), output: o, heads: c.numAttentionHeads,
                                     kvHeads: c.numKeyValueHeads, headDim: D, slidingWindow: window),
                postAttentionNorm: RMSNorm(weight: try t(L("post_attention_layernorm.weight"), [H]), eps: c.rmsNormEps),
                feedForward: .fused(gateUp: try linear(L("mlp.gate_up_proj.weight"), [2 * c.intermediateSize, H]),  // [2I, H]
                                    down: try linear(L("mlp.down_proj.weight"), [H, c.intermediateSize]))))          // [H, I]
        }
        let finalNorm = RMSNorm(weight: try t(Keys.norm, [H]), eps: c.rmsNormEps)
        let lmHead: Linear
        if c.tieWordEmbeddings && !w.contains(Keys.lmHead) {
            lmHead = try Linear(weight: transform?(Keys.lmHead, embedding.table) ?? embedding.table, name: Keys.lmHead)
        } else {
            // Untied, or tied yet stored: llama.cpp's files and `phi4 quantize` may store a (possibly
            // differently quantized) copy of the head, which is what they compute with.
            lmHead = try linear(Keys.lmHead, [c.vocabSize, H])                                  // [V, H]
        }
        var rotary = c.makeRotaryEmbedding()
        // GGUF files carry the LongRoPE factors as tensors rather than config lists.
        if rotary.kind == .standard, w.contains("rope_factors_long.weight") {
            let half = c.rotaryDim / 2
            let long = try t("rope_factors_long.weight", [half]).toFloatArray()
            let short = try t("rope_factors_short.weight", [half]).toFloatArray()
            var cc = c
            cc.ropeType = "longrope"
            cc.ropeFactorsLong = long
            cc.ropeFactorsShort = short
            rotary = cc.makeRotaryEmbedding()
        }
        return TransformerDecoder(embedding: embedding, blocks: blocks, finalNorm: finalNorm, lmHead: lmHead,
                                  rotary: rotary, contextLength: c.maxPositionEmbeddings, parallel: parallel)
    }

    /// Longest chunk of a prompt processed in one batched pass (bounds scratch memory).
    public var prefillChunk: Int {
        get { decoder.prefillChunk }
        set { decoder.prefillChunk = newValue }
    }
}

/// Replaces a weight at load time (e.g. quantizes it); gets the canonical name and the stored tensor.
public typealias WeightTransform = (_ name: String, _ tensor: Tensor) throws -> Tensor
