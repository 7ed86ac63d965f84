import PhiNN

/// What tells one decoder-only architecture's blocks from another's. An architecture states it once (see
/// `Phi3Model.description(for:)`, `LlamaModel.description(for:)`); `DecoderBuilder` binds the weights it
/// names and builds the shared `TransformerDecoder`.
public struct DecoderDescription: Sendable, Equatable {
    public enum NormKind: Sendable, Equatable {
        case rmsNorm
        /// LayerNorm, with a `.bias` tensor beside each norm weight when `bias`.
        case layerNorm(bias: Bool)
    }

    /// One matrix for several projections (Phi-3's qkv_proj and gate_up_proj) or one matrix each (Llama).
    public enum Projections: Sendable, Equatable {
        case fused
        case separate
    }

    public var norm: NormKind
    /// act(gate) ⊙ up.
    public var activation: GatedActivation
    public var qkv: Projections
    public var gateUp: Projections
    /// Biases on the q, k and v projections.
    public var qkvBias: Bool
    /// A bias on o_proj.
    public var outputBias: Bool
    /// Biases on gate, up and down.
    public var mlpBias: Bool
    /// The output head reuses the embedding table when the checkpoint stores no lm_head.weight.
    public var tieWordEmbeddings: Bool

    public init(norm: NormKind = .rmsNorm, activation: GatedActivation = .silu, qkv: Projections,
                gateUp: Projections, qkvBias: Bool = false, outputBias: Bool = false, mlpBias: Bool = false,
                tieWordEmbeddings: Bool) {
        self.norm = norm
        self.activation = activation
        self.qkv = qkv
        self.gateUp = gateUp
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.mlpBias = mlpBias
        self.tieWordEmbeddings = tieWordEmbeddings
    }
}

/// Sizes of a decoder, taken from the architecture's config.
public struct DecoderDimensions: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var normEps: Float
    /// Attention window in tokens (0: none).
    public var slidingWindow: Int
    /// max_position_embeddings.
    public var contextLength: Int

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                numKeyValueHeads: Int, headDim: Int, normEps: Float, slidingWindow: Int = 0, contextLength: Int) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.normEps = normEps
        self.slidingWindow = slidingWindow
        self.contextLength = contextLength
    }
}
