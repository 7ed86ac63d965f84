import Foundation
import PhiNN

/// config.json of a Llama-architecture model (`model_type` llama: SmolLM2, Llama 2, Llama 3 without rope
/// scaling, TinyLlama, …), or the same hyperparameters read from a llama.cpp `llama` GGUF. Names mirror the
/// Hugging Face config. Decoded with explicit keys (`CodingKeys`) and checked by `validate()`.
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
    public var hiddenAct: String = "silu"
    /// Biases on q, k, v and o_proj (transformers' LlamaAttention).
    public var attentionBias = false
    /// Biases on gate_proj, up_proj and down_proj.
    public var mlpBias = false
    public var bosTokenId: Int?
    public var eosTokenIds: [Int] = []

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

    /// Reads and checks `directory/config.json`.
    public static func load(directory: URL) throws -> LlamaConfig {
        let url = directory.appendingPathComponent("config.json")
        let data = try ModelFile.read(url)
        return try parse(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String = "config.json") throws -> LlamaConfig {
        let c = try ConfigDecoder.decode(LlamaConfig.self, from: data, file: file)
        try c.validate(file: file)
        return c
    }

    /// The activation `hidden_act` names.
    public var activation: GatedActivation? { GatedActivation(huggingFace: hiddenAct) }

    /// Every size against PhiKit's limits (the derived ones computed with overflow reported, issue 10), the
    /// heads against each other, and the numbers the forward pass divides or exponentiates by. Errors are
    /// `ModelError.malformedConfig` naming `file` and the field (and its GGUF key, from `ggufKeys`).
    public func validate(file: String = "config.json", ggufKeys: [String: String] = [:]) throws {
        try LlamaModel.dimensions(for: self).validate(file: file, ggufKeys: ggufKeys)
        func bad(_ reason: String) -> ModelError { .malformedConfig(file: file, reason: reason) }
        guard headDim % 2 == 0 else {
            throw bad("'head_dim'\(ggufKeys["head_dim"].map { " (\($0))" } ?? "") is \(headDim): rotary pairs need an even head size")
        }
        guard rmsNormEps.isFinite, rmsNormEps > 0, ropeTheta.isFinite, ropeTheta > 0 else {
            throw bad("rms_norm_eps \(rmsNormEps) and rope_theta \(ropeTheta) must be finite and positive")
        }
        guard activation != nil else {
            throw bad("hidden_act '\(hiddenAct)' is not supported (silu, gelu, gelu_pytorch_tanh)")
        }
    }
}

extension LlamaConfig: Decodable {
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case maxPositionEmbeddings = "max_position_embeddings"
        case tieWordEmbeddings = "tie_word_embeddings"
        case hiddenAct = "hidden_act"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
    }

    /// `rope_scaling` (older files) or `rope_parameters` (transformers 5). Only unscaled RoPE is supported.
    struct RopeParameters: Decodable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Double?
        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type"
            case type
            case ropeTheta = "rope_theta"
        }
    }

    /// `eos_token_id`: one id or a list.
    enum TokenIDs: Decodable {
        case one(Int)
        case many([Int])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let one = try? c.decode(Int.self) { self = .one(one); return }
            self = .many(try c.decode([Int].self))
        }
        var ids: [Int] {
            switch self {
            case .one(let i): return [i]
            case .many(let l): return l
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "llama" {
            throw ModelError.unsupportedArchitecture(type)
        }
        let hidden = try c.decode(Int.self, forKey: .hiddenSize)
        let heads = try c.decode(Int.self, forKey: .numAttentionHeads)
        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling)
            ?? c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        if let type = rope?.ropeType ?? rope?.type, type != "default" {
            throw ModelError.unsupported("llama rope scaling '\(type)' is not supported (only unscaled RoPE)")
        }
        self.init(vocabSize: try c.decode(Int.self, forKey: .vocabSize), hiddenSize: hidden,
                  intermediateSize: try c.decode(Int.self, forKey: .intermediateSize),
                  numHiddenLayers: try c.decode(Int.self, forKey: .numHiddenLayers),
                  numAttentionHeads: heads,
                  numKeyValueHeads: try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? heads,
                  headDim: try c.decodeIfPresent(Int.self, forKey: .headDim) ?? (heads > 0 ? hidden / heads : 0),
                  rmsNormEps: Float(try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6),
                  ropeTheta: try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? rope?.ropeTheta ?? 10000,
                  maxPositionEmbeddings: try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048,
                  tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false,
                  ropeInterleaved: false)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.decodeIfPresent(TokenIDs.self, forKey: .eosTokenId)?.ids ?? []
    }
}
