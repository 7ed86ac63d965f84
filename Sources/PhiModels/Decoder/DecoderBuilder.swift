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

    /// The tensor `name` with its shape checked; a mismatch names the config `fields` the shape came from.
    func tensor(_ name: String, _ shape: [Int], _ fields: String) throws -> Tensor {
        do {
            return try weights.tensor(name, shape: shape)
        } catch WeightsError.shapeMismatch(_, let actual, let expected, _) {
            throw ModelError.configMismatch(fields: fields, tensor: name, expected: expected, actual: actual)
        }
    }

    func linear(_ name: String, _ shape: [Int], _ fields: String) throws -> Linear {
        let t = try tensor(name, shape, fields)
        return try Linear(weight: options.transform?(name, t) ?? t, name: name, repacker: options.repacker)
    }

    func bias(_ name: String, _ count: Int, _ fields: String) throws -> [Float] { try tensor(name, [count], fields).toFloatArray() }

    func norm(_ prefix: String) throws -> Norm {
        let H = dimensions.hiddenSize
        switch description.norm {
        case .rmsNorm:
            return .rms(RMSNorm(weight: try tensor(prefix + ".weight", [H], "hidden_size"), eps: dimensions.normEps))
        case .layerNorm(let hasBias):
            return .layer(LayerNorm(weight: try tensor(prefix + ".weight", [H], "hidden_size"),
                                    bias: hasBias ? try tensor(prefix + ".bias", [H], "hidden_size") : nil, eps: dimensions.normEps))
        }
    }

    func attention(layer i: Int, sizes: DecoderSizes) throws -> Attention {
        let d = dimensions, H = d.hiddenSize, D = d.headDim, nH = d.numAttentionHeads, nKV = d.numKeyValueHeads
        let q = sizes.queryWidth, kv = sizes.keyValueWidth, qkv = sizes.qkvWidth
        let L = { (s: String) in DecoderKeys.layer(i, s) }
        let qFields = "num_attention_heads × head_dim, hidden_size"
        let kvFields = "num_key_value_heads × head_dim, hidden_size"
        let qkvFields = "(num_attention_heads + 2 × num_key_value_heads) × head_dim, hidden_size"
        let projection: Attention.Projection
        var qkvBias: Bias?
        switch description.qkv {
        case .fused:
            projection = .fused(try linear(L("self_attn.qkv_proj.weight"), [qkv, H], qkvFields))   // [(nH+2nKV)·D, H]
            if description.qkvBias { qkvBias = Bias(try bias(L("self_attn.qkv_proj.bias"), qkv, qkvFields)) }
        case .separate:
            projection = .separate(q: try linear(L("self_attn.q_proj.weight"), [q, H], qFields),     // [nH·D, H]
                                   k: try linear(L("self_attn.k_proj.weight"), [kv, H], kvFields),   // [nKV·D, H]
                                   v: try linear(L("self_attn.v_proj.weight"), [kv, H], kvFields))   // [nKV·D, H]
            if description.qkvBias {
                qkvBias = Bias(try bias(L("self_attn.q_proj.bias"), q, qFields) + bias(L("self_attn.k_proj.bias"), kv, kvFields)
                               + bias(L("self_attn.v_proj.bias"), kv, kvFields))
            }
        }
        let o = try linear(L("self_attn.o_proj.weight"), [H, q], "hidden_size, num_attention_heads × head_dim")  // [H, nH·D]
        let oBias = description.outputBias ? Bias(try bias(L("self_attn.o_proj.bias"), H, "hidden_size")) : nil
        let window = d.slidingWindow > 0 && d.slidingWindow < d.contextLength ? d.slidingWindow : 0
        return try Attention(projection: projection, output: o, heads: nH, kvHeads: nKV, headDim: D, slidingWindow: window,
                             qkvBias: qkvBias, outputBias: oBias)
    }

    func feedForward(layer i: Int, sizes: DecoderSizes) throws -> FeedForward {
        let H = dimensions.hiddenSize, I = dimensions.intermediateSize, gateUp = sizes.gateUpWidth
        let L = { (s: String) in DecoderKeys.layer(i, s) }
        let fields = "intermediate_size, hidden_size"
        let projection: FeedForward.Projection
        var gateUpBias: Bias?
        switch description.gateUp {
        case .fused:
            projection = .fused(gateUp: try linear(L("mlp.gate_up_proj.weight"), [gateUp, H], "2 × " + fields))  // [2I, H]
            if description.mlpBias { gateUpBias = Bias(try bias(L("mlp.gate_up_proj.bias"), gateUp, "2 × intermediate_size")) }
        case .separate:
            projection = .separate(gate: try linear(L("mlp.gate_proj.weight"), [I, H], fields),                  // [I, H]
                                   up: try linear(L("mlp.up_proj.weight"), [I, H], fields))                      // [I, H]
            if description.mlpBias {
                gateUpBias = Bias(try bias(L("mlp.gate_proj.bias"), I, "intermediate_size")
                                  + bias(L("mlp.up_proj.bias"), I, "intermediate_size"))
            }
        }
        let down = try linear(L("mlp.down_proj.weight"), [H, I], "hidden_size, intermediate_size")             // [H, I]
        let downBias = description.mlpBias ? Bias(try bias(L("mlp.down_proj.bias"), H, "hidden_size")) : nil
        return FeedForward(projection: projection, down: down, activation: description.activation,
                           gateUpBias: gateUpBias, downBias: downBias)
    }

    /// Binds embeddings, blocks, final norm and head (in the order a forward pass reads them, which is the
    /// order the repacker works in), then asks for the rotary embedding (which may bind tensors of its own).
    public func build(rotary: () throws -> RotaryEmbedding) throws -> TransformerDecoder {
        // Every size from the config is checked, and its products computed with overflow reported, before any
        // tensor is read; the configs check the same at parse time, naming their file.
        let d = dimensions, H = d.hiddenSize
        let sizes = try d.validate(file: "the model config")
        // Layers: the checkpoint holds exactly num_hidden_layers of them (a missing last one or an extra one is
        // the config's mistake, said before thousands of tensors are bound).
        let layerProbe = "input_layernorm.weight"
        guard weights.contains(DecoderKeys.layer(d.numHiddenLayers - 1, layerProbe)) else {
            throw ModelError.malformedConfig(file: "the model config", reason: "'num_hidden_layers' is \(d.numHiddenLayers) but the checkpoint has no '\(DecoderKeys.layer(d.numHiddenLayers - 1, layerProbe))'")
        }
        guard !weights.contains(DecoderKeys.layer(d.numHiddenLayers, layerProbe)) else {
            throw ModelError.malformedConfig(file: "the model config", reason: "'num_hidden_layers' is \(d.numHiddenLayers) but the checkpoint has more layers ('\(DecoderKeys.layer(d.numHiddenLayers, layerProbe))')")
        }
        let embedding = Embedding(table: try tensor(DecoderKeys.embedTokens, [d.vocabSize, H], "vocab_size, hidden_size"))  // [V, H]
        var blocks: [DecoderBlock] = []
        for i in 0..<d.numHiddenLayers {
            let inputNorm = try norm(DecoderKeys.layer(i, "input_layernorm"))
            let attention = try attention(layer: i, sizes: sizes)
            let postNorm = try norm(DecoderKeys.layer(i, "post_attention_layernorm"))
            blocks.append(DecoderBlock(inputNorm: inputNorm, attention: attention, postAttentionNorm: postNorm,
                                       feedForward: try feedForward(layer: i, sizes: sizes)))
        }
        let finalNorm = try norm(String(DecoderKeys.norm.dropLast(".weight".count)))
        let lmHead: Linear
        if description.tieWordEmbeddings && !weights.contains(DecoderKeys.lmHead) {
            lmHead = try Linear(weight: options.transform?(DecoderKeys.lmHead, embedding.table) ?? embedding.table,
                                name: DecoderKeys.lmHead, repacker: options.repacker)
        } else {
            // Untied, or tied yet stored: llama.cpp's files and `phi4 quantize` may store a (possibly
            // differently quantized) copy of the head, which is what they compute with.
            lmHead = try linear(DecoderKeys.lmHead, [d.vocabSize, H], "vocab_size, hidden_size")      // [V, H]
        }
        let rope = try rotary()
        guard rope.rotaryDim >= 2, rope.rotaryDim % 2 == 0, rope.rotaryDim <= d.headDim else {
            throw ModelError.malformedConfig(file: "the model config", reason: "the rotary embedding covers \(rope.rotaryDim) dims of heads of 'head_dim' \(d.headDim): it must be even, at least 2 and at most head_dim")
        }
        do {
            return try TransformerDecoder(embedding: embedding, blocks: blocks, finalNorm: finalNorm, lmHead: lmHead,
                                          rotary: rope, contextLength: d.contextLength, parallel: options.parallel)
        } catch let error as NNError {
            throw ModelError.unsupported("the model's parts do not fit together: \(error)")
        }
    }
}
