import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Binds a decoder's weights by canonical name (`DecoderKeys`) as a `DecoderDescription` says, shapes checked,
/// and builds the shared `TransformerDecoder`. Unused-tensor checks are the caller's: a model may bind more
/// (Phi-4-multimodal's encoders and adapters) before it checks.
public struct DecoderBuilder {
    public let description: DecoderDescription
    public let dimensions: DecoderDimensions
    public let weights: TensorSource
    public let options: ModelLoadOptions

    public init(description: DecoderDescription, dimensions: DecoderDimensions, weights: TensorSource,
                options: ModelLoadOptions) {
        self.description = description
        self.dimensions = dimensions
        self.weights = weights
        self.options = options
    }

    func tensor(_ name: String, _ shape: [Int]) throws -> Tensor { try weights.tensor(name, shape: shape) }

    func linear(_ name: String, _ shape: [Int]) throws -> Linear {
        let t = try tensor(name, shape)
        return try Linear(weight: options.transform?(name, t) ?? t, name: name, repacker: options.repacker)
    }

    func bias(_ name: String, _ count: Int) throws -> [Float] { try tensor(name, [count]).toFloatArray() }

    func norm(_ prefix: String) throws -> Norm {
        let H = dimensions.hiddenSize
        switch description.norm {
        case .rmsNorm:
            return .rms(RMSNorm(weight: try tensor(prefix + ".weight", [H]), eps: dimensions.normEps))
        case .layerNorm(let hasBias):
            return .layer(LayerNorm(weight: try tensor(prefix + ".weight", [H]),
                                    bias: hasBias ? try tensor(prefix + ".bias", [H]) : nil, eps: dimensions.normEps))
        }
    }

    func attention(layer i: Int) throws -> Attention {
        let d = dimensions, H = d.hiddenSize, D = d.headDim, nH = d.numAttentionHeads, nKV = d.numKeyValueHeads
        let L = { (s: String) in DecoderKeys.layer(i, s) }
        let projection: Attention.Projection
        var qkvBias: Bias?
        switch description.qkv {
        case .fused:
            projection = .fused(try linear(L("self_attn.qkv_proj.weight"), [(nH + 2 * nKV) * D, H]))  // [(nH+2nKV)·D, H]
            if description.qkvBias { qkvBias = Bias(try bias(L("self_attn.qkv_proj.bias"), (nH + 2 * nKV) * D)) }
        case .separate:
            projection = .separate(q: try linear(L("self_attn.q_proj.weight"), [nH * D, H]),      // [nH·D, H]
                                   k: try linear(L("self_attn.k_proj.weight"), [nKV * D, H]),     // [nKV·D, H]
                                   v: try linear(L("self_attn.v_proj.weight"), [nKV * D, H]))     // [nKV·D, H]
            if description.qkvBias {
                qkvBias = Bias(try bias(L("self_attn.q_proj.bias"), nH * D) + bias(L("self_attn.k_proj.bias"), nKV * D)
                               + bias(L("self_attn.v_proj.bias"), nKV * D))
            }
        }
        let o = try linear(L("self_attn.o_proj.weight"), [H, nH * D])                              // [H, nH·D]
        let oBias = description.outputBias ? Bias(try bias(L("self_attn.o_proj.bias"), H)) : nil
        let window = d.slidingWindow > 0 && d.slidingWindow < d.contextLength ? d.slidingWindow : 0
        return Attention(projection: projection, output: o, heads: nH, kvHeads: nKV, headDim: D, slidingWindow: window,
                         qkvBias: qkvBias, outputBias: oBias)
    }

    func feedForward(layer i: Int) throws -> FeedForward {
        let H = dimensions.hiddenSize, I = dimensions.intermediateSize
        let L = { (s: String) in DecoderKeys.layer(i, s) }
        let projection: FeedForward.Projection
        var gateUpBias: Bias?
        switch description.gateUp {
        case .fused:
            projection = .fused(gateUp: try linear(L("mlp.gate_up_proj.weight"), [2 * I, H]))           // [2I, H]
            if description.mlpBias { gateUpBias = Bias(try bias(L("mlp.gate_up_proj.bias"), 2 * I)) }
        case .separate:
            projection = .separate(gate: try linear(L("mlp.gate_proj.weight"), [I, H]),                 // [I, H]
                                   up: try linear(L("mlp.up_proj.weight"), [I, H]))                     // [I, H]
            if description.mlpBias {
                gateUpBias = Bias(try bias(L("mlp.gate_proj.bias"), I) + bias(L("mlp.up_proj.bias"), I))
            }
        }
        let down = try linear(L("mlp.down_proj.weight"), [H, I])                                        // [H, I]
        let downBias = description.mlpBias ? Bias(try bias(L("mlp.down_proj.bias"), H)) : nil
        return FeedForward(projection: projection, down: down, activation: description.activation,
                           gateUpBias: gateUpBias, downBias: downBias)
    }

    /// Binds embeddings, blocks, final norm and head (in the order a forward pass reads them, which is the
    /// order the repacker works in), then asks for the rotary embedding (which may bind tensors of its own).
    public func build(rotary: () throws -> RotaryEmbedding) throws -> TransformerDecoder {
        let d = dimensions, H = d.hiddenSize
        guard d.numKeyValueHeads > 0, d.numAttentionHeads % d.numKeyValueHeads == 0 else {
            throw ModelError.unsupported("num_attention_heads \(d.numAttentionHeads) is not a multiple of num_key_value_heads \(d.numKeyValueHeads)")
        }
        let embedding = Embedding(table: try tensor(DecoderKeys.embedTokens, [d.vocabSize, H]))     // [V, H]
        var blocks: [DecoderBlock] = []
        for i in 0..<d.numHiddenLayers {
            let inputNorm = try norm(DecoderKeys.layer(i, "input_layernorm"))
            let attention = try attention(layer: i)
            let postNorm = try norm(DecoderKeys.layer(i, "post_attention_layernorm"))
            blocks.append(DecoderBlock(inputNorm: inputNorm, attention: attention, postAttentionNorm: postNorm,
                                       feedForward: try feedForward(layer: i)))
        }
        let finalNorm = try norm(String(DecoderKeys.norm.dropLast(".weight".count)))
        let lmHead: Linear
        if description.tieWordEmbeddings && !weights.contains(DecoderKeys.lmHead) {
            lmHead = try Linear(weight: options.transform?(DecoderKeys.lmHead, embedding.table) ?? embedding.table,
                                name: DecoderKeys.lmHead, repacker: options.repacker)
        } else {
            // Untied, or tied yet stored: llama.cpp's files and `phi4 quantize` may store a (possibly
            // differently quantized) copy of the head, which is what they compute with.
            lmHead = try linear(DecoderKeys.lmHead, [d.vocabSize, H])                                 // [V, H]
        }
        return TransformerDecoder(embedding: embedding, blocks: blocks, finalNorm: finalNorm, lmHead: lmHead,
                                  rotary: try rotary(), contextLength: d.contextLength, parallel: options.parallel)
    }
}
