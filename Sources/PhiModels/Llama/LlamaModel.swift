import Foundation
import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Llama architecture (LlamaForCausalLM; SmolLM2, Llama 2/3, TinyLlama): separate q/k/v and gate/up
/// projections, full rotary, optional biases (`attention_bias`, `mlp_bias`). Binds Hugging Face names; llama.cpp
/// GGUF files are read through the name table (their q/k rows are permuted: interleaved rotary pairs).
public final class LlamaModel: DecoderLanguageModel, @unchecked Sendable {
    public let config: LlamaConfig
    public let decoder: TransformerDecoder

    public convenience init(config c: LlamaConfig, weights w: TensorSource, parallel: Parallel = Parallel(),
                            transform: WeightTransform? = nil) throws {
        try self.init(config: c, weights: w, options: ModelLoadOptions(parallel: parallel, transform: transform))
    }

    /// Binds every parameter by name with its shape checked; any checkpoint tensor left unused is an error.
    public init(config c: LlamaConfig, weights w: TensorSource, options: ModelLoadOptions) throws {
        try c.validate()
        config = c
        let builder = DecoderBuilder(description: try Self.description(for: c), dimensions: Self.dimensions(for: c),
                                     weights: w, options: options)
        decoder = try builder.build {
            RotaryEmbedding(kind: .standard, rotaryDim: c.headDim, theta: c.ropeTheta, attentionFactor: 1,
                            interleaved: c.ropeInterleaved)
        }
        let unused = w.unusedNames()
        guard unused.isEmpty else { throw ModelError.unexpectedWeights(unused) }
    }

    /// The Llama block: RMSNorm, separate projections, the config's activation and biases.
    public static func description(for c: LlamaConfig) throws -> DecoderDescription {
        guard let activation = c.activation else {
            throw ModelError.unsupported("llama config: hidden_act '\(c.hiddenAct)' is not supported")
        }
        return DecoderDescription(norm: .rmsNorm, activation: activation, qkv: .separate, gateUp: .separate,
                                  qkvBias: c.attentionBias, outputBias: c.attentionBias, mlpBias: c.mlpBias,
                                  tieWordEmbeddings: c.tieWordEmbeddings)
    }

    public static func dimensions(for c: LlamaConfig) -> DecoderDimensions {
        DecoderDimensions(vocabSize: c.vocabSize, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
                          numHiddenLayers: c.numHiddenLayers, numAttentionHeads: c.numAttentionHeads,
                          numKeyValueHeads: c.numKeyValueHeads, headDim: c.headDim, normEps: c.rmsNormEps,
                          contextLength: c.maxPositionEmbeddings)
    }
}
