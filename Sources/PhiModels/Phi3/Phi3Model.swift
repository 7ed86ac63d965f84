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

    public convenience init(directory: URL, parallel: Parallel = Parallel()) throws {
        let config = try Phi3Config.load(directory: directory)
        let store = try WeightStore(directory: directory)
        try self.init(config: config, weights: store, parallel: parallel)
    }

    /// Binds every parameter by name with its shape checked; any checkpoint tensor left unused is an error.
    public convenience init(config c: Phi3Config, weights w: TensorSource, parallel: Parallel = Parallel(),
                            transform: WeightTransform? = nil) throws {
        try self.init(config: c, weights: w, options: ModelLoadOptions(parallel: parallel, transform: transform))
    }

    public init(config c: Phi3Config, weights w: TensorSource, options: ModelLoadOptions) throws {
        config = c
        decoder = try Phi3Model.makeDecoder(config: c, weights: w, options: options)
        let unused = w.unusedNames()
        guard unused.isEmpty else { throw ModelError.unexpectedWeights(unused) }
    }

    /// The Phi-3 block: RMSNorm, fused qkv_proj and gate_up_proj, SiLU, no biases.
    public static func description(for c: Phi3Config) -> DecoderDescription {
        DecoderDescription(norm: .rmsNorm, activation: .silu, qkv: .fused, gateUp: .fused,
                           tieWordEmbeddings: c.tieWordEmbeddings)
    }

    public static func dimensions(for c: Phi3Config) -> DecoderDimensions {
        DecoderDimensions(vocabSize: c.vocabSize, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
                          numHiddenLayers: c.numHiddenLayers, numAttentionHeads: c.numAttentionHeads,
                          numKeyValueHeads: c.numKeyValueHeads, headDim: c.headDim, normEps: c.rmsNormEps,
                          slidingWindow: c.slidingWindow ?? 0, contextLength: c.maxPositionEmbeddings)
    }

    /// The Phi-3 decoder bound from `w` (canonical names), shapes checked. Models that hold more than the
    /// language model (Phi-4-multimodal) bind the rest themselves and then check for unused tensors.
    public static func makeDecoder(config c: Phi3Config, weights w: TensorSource,
                                   options: ModelLoadOptions) throws -> TransformerDecoder {
        let builder = DecoderBuilder(description: description(for: c), dimensions: dimensions(for: c), weights: w,
                                     options: options)
        return try builder.build {
            // GGUF files carry the LongRoPE factors as tensors rather than config lists.
            let rotary = c.makeRotaryEmbedding()
            guard rotary.kind == .standard, w.contains("rope_factors_long.weight") else { return rotary }
            let half = c.rotaryDim / 2
            var cc = c
            cc.ropeType = "longrope"
            cc.ropeFactorsLong = try w.tensor("rope_factors_long.weight", shape: [half]).toFloatArray()
            cc.ropeFactorsShort = try w.tensor("rope_factors_short.weight", shape: [half]).toFloatArray()
            return cc.makeRotaryEmbedding()
        }
    }

    /// Longest chunk of a prompt processed in one batched pass (bounds scratch memory).
    public var prefillChunk: Int {
        get { decoder.prefillChunk }
        set { decoder.prefillChunk = newValue }
    }
}
