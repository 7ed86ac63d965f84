import Foundation
import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Hyperparameters of a Llama-architecture model (SmolLM2, Llama 2/3 style); names mirror the HF config.
public struct LlamaConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// llama.cpp's converter permutes q/k rows so rotary pairs are (2i, 2i+1); HF checkpoints are not permuted.
    public var ropeInterleaved: Bool

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                numKeyValueHeads: Int, headDim: Int, rmsNormEps: Float, ropeTheta: Double, maxPositionEmbeddings: Int,
                tieWordEmbeddings: Bool, ropeInterleaved: Bool) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
        self.ropeInterleaved = ropeInterleaved
    }

    public func validate() throws {
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                          ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                          ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim),
                          ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw ModelError.unsupported("llama config: \(name) must be positive, got \(v)")
        }
        guard numAttentionHeads % numKeyValueHeads == 0, headDim % 2 == 0 else {
            throw ModelError.unsupported("llama config: heads \(numAttentionHeads) / kv heads \(numKeyValueHeads) / head dim \(headDim) do not fit")
        }
    }
}

/// Llama architecture: separate q/k/v and gate/up projections, full rotary, no biases.
public final class LlamaModel: DecoderLanguageModel, @unchecked Sendable {
    public let config: LlamaConfig
    public let decoder: TransformerDecoder

    public init(config c: LlamaConfig, weights w: TensorSource, parallel: Parallel = Parallel(),
                transform: WeightTransform? = nil) throws {
        try c.validate()
        config = c
        let H = c.hiddenSize, D = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads
        func t(_ name: String, _ shape: [Int]) throws -> Tensor { try w.tensor(name, shape: shape) }
        func linear(_ name: String, _ shape: [Int]) throws -> Linear {
            let tensor = try t(name, shape)
            return try Linear(weight: transform?(name, tensor) ?? tensor, name: name)
        }
        let embedding = Embedding(table: try t(Phi3Model.Keys.embedTokens, [c.vocabSize, H]))   // [V, H]
        var blocks: [DecoderBlock] = []
        for i in 0..<c.numHiddenLayers {
            let L = { (s: String) in Phi3Model.Keys.layer(i, s) }
            let projection = Attention.Projection.separate(
                q: try linear(L("self_attn.q_proj.weight"), [nH * D, H]),      // [nH·D, H]
                k: try linear(L("self_attn.k_proj.weight"), [nKV * D, H]),     // [nKV·D, H]
                v: try linear(L("self_attn.v_proj.weight"), [nKV * D, H]))     // [nKV·D, H]
            blocks.append(DecoderBlock(
                inputNorm: RMSNorm(weight: try t(L("input_layernorm.weight"), [H]), eps: c.rmsNormEps),
                attention: Attention(projection: projection, output: try linear(L("self_attn.o_proj.weight"), [H, nH * D]),
                                     heads: nH, kvHeads: nKV, headDim: D),
                postAttentionNorm: RMSNorm(weight: try t(L("post_attention_layernorm.weight"), [H]), eps: c.rmsNormEps),
                feedForward: .separate(gate: try linear(L("mlp.gate_proj.weight"), [c.intermediateSize, H]),  // [I, H]
                                       up: try linear(L("mlp.up_proj.weight"), [c.intermediateSize, H]),      // [I, H]
                                       down: try linear(L("mlp.down_proj.weight"), [H, c.intermediateSize])))) // [H, I]
        }
        let finalNorm = RMSNorm(weight: try t(Phi3Model.Keys.norm, [H]), eps: c.rmsNormEps)
        let lmHead: Linear
        if w.contains(Phi3Model.Keys.lmHead) {
            lmHead = try linear(Phi3Model.Keys.lmHead, [c.vocabSize, H])
        } else {
            guard c.tieWordEmbeddings else { throw ModelError.missingWeight(Phi3Model.Keys.lmHead) }
            lmHead = try Linear(weight: transform?(Phi3Model.Keys.lmHead, embedding.table) ?? embedding.table)
        }
        let rotary = RotaryEmbedding(kind: .standard, rotaryDim: D, theta: c.ropeTheta, attentionFactor: 1,
                                     interleaved: c.ropeInterleaved)
        decoder = TransformerDecoder(embedding: embedding, blocks: blocks, finalNorm: finalNorm, lmHead: lmHead,
                                     rotary: rotary, contextLength: c.maxPositionEmbeddings, parallel: parallel)
        let unused = w.unusedNames()
        guard unused.isEmpty else { throw ModelError.unexpectedWeights(unused) }
    }
}
