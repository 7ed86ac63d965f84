import Foundation
import PhiJSON
import PhiNN

/// config.json of a Phi-3-family model (`model_type` phi3: Phi-3, Phi-3.5-mini, Phi-4-mini).
/// Field names mirror the Hugging Face config. Both the older layout (`rope_scaling`, top-level
/// `rope_theta`/`partial_rotary_factor`) and transformers 5's `rope_parameters` are read.
public struct Phi3Config: Sendable, Equatable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var partialRotaryFactor: Double
    public var maxPositionEmbeddings: Int
    public var originalMaxPositionEmbeddings: Int
    public var ropeType: String            // "default" or "longrope"
    public var ropeFactorsShort: [Float]?
    public var ropeFactorsLong: [Float]?
    public var ropeScalingFactor: Double?
    public var ropeAttentionFactor: Double?
    public var tieWordEmbeddings: Bool
    public var slidingWindow: Int?
    public var hiddenAct: String
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]

    public var rotaryDim: Int { Int(Double(headDim) * partialRotaryFactor) }

    public static func load(directory: URL) throws -> Phi3Config {
        let url = directory.appendingPathComponent("config.json")
        let data = try ModelFile.read(url)
        return try parse(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String = "config.json") throws -> Phi3Config {
        try decodeConfig(Phi3Config.self, from: data, file: file)
    }

    /// From HF config keys assembled in memory (the GGUF reader's), with the same rules as config.json.
    init(json j: [String: Any], file: String) throws {
        self = try decodeConfig(Phi3Config.self, from: j, file: file)
    }

    /// The rotary embedding exactly as transformers builds it for this config.
    public func makeRotaryEmbedding() -> RotaryEmbedding {
        if ropeType == "longrope", let s = ropeFactorsShort, let l = ropeFactorsLong {
            let factor = ropeScalingFactor ?? Double(maxPositionEmbeddings) / Double(originalMaxPositionEmbeddings)
            let af: Double
            if let a = ropeAttentionFactor { af = a }
            else if factor <= 1 { af = 1 }
            else { af = (1 + log(factor) / log(Double(originalMaxPositionEmbeddings))).squareRoot() }
            return RotaryEmbedding(kind: .longRoPE(shortFactors: s, longFactors: l,
                                                   originalMaxPositionEmbeddings: originalMaxPositionEmbeddings),
                                   rotaryDim: rotaryDim, theta: ropeTheta, attentionFactor: Float(af))
        }
        return RotaryEmbedding(kind: .standard, rotaryDim: rotaryDim, theta: ropeTheta, attentionFactor: 1)
    }
}

/// Decoded with PhiJSON: explicit keys, exact numbers, errors naming the field.
extension Phi3Config: Decodable {
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", architectures
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", rmsNormEps = "rms_norm_eps"
        case maxPositionEmbeddings = "max_position_embeddings", hiddenAct = "hidden_act"
        case tieWordEmbeddings = "tie_word_embeddings", slidingWindow = "sliding_window"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
        case ropeScaling = "rope_scaling", ropeParameters = "rope_parameters", ropeTheta = "rope_theta"
        case partialRotaryFactor = "partial_rotary_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
    }

    /// `rope_scaling` (older files) or `rope_parameters` (transformers 5).
    struct RopeParameters: Decodable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Double?
        var partialRotaryFactor: Double?
        var originalMaxPositionEmbeddings: Int?
        var factor: Double?
        var attentionFactor: Double?
        var shortFactor: [Float]?
        var longFactor: [Float]?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta", partialRotaryFactor = "partial_rotary_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings", factor
            case attentionFactor = "attention_factor", shortFactor = "short_factor", longFactor = "long_factor"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let file = decoder.configFile
        func bad(_ key: CodingKeys, _ reason: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: reason)
        }
        func positive(_ key: CodingKeys) throws -> Int {
            let v = try c.decode(Int.self, forKey: key)
            guard v > 0 else { throw bad(key, "must be positive, got \(v)") }
            return v
        }
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? ""
        let architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        guard ["phi3", "phi4mm", "phi4_multimodal"].contains(modelType) || architectures?.contains("Phi3ForCausalLM") == true else {
            let arch = architectures?.first ?? modelType
            throw ModelError.unsupportedArchitecture(arch.isEmpty ? "(none given)" : arch)
        }
        vocabSize = try positive(.vocabSize)
        hiddenSize = try positive(.hiddenSize)
        intermediateSize = try positive(.intermediateSize)
        numHiddenLayers = try positive(.numHiddenLayers)
        numAttentionHeads = try positive(.numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw bad(.numKeyValueHeads, "num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
        }
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / numAttentionHeads
        guard headDim > 0 else { throw bad(.headDim, "must be positive") }
        // Through Double, as Python reads it (PhiJSON's Float rule): the value torch sees.
        rmsNormEps = Float(try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-5)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 4096
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        guard hiddenAct == "silu" else { throw ModelError.unsupported("\(file): hidden_act '\(hiddenAct)' is not supported (only silu)") }
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.decodeIfPresent(OneOrMany<Int>.self, forKey: .eosTokenId)?.values ?? []

        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling)
            ?? c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? rope?.ropeTheta ?? 10000
        partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor) ?? rope?.partialRotaryFactor ?? 1.0
        guard partialRotaryFactor > 0, partialRotaryFactor <= 1 else { throw bad(.partialRotaryFactor, "must be in (0, 1]") }
        var type = rope?.ropeType ?? rope?.type ?? "default"
        if type == "su" || type == "yarn" { type = "longrope" } // transformers' Phi-3 back-compat rule
        guard type == "default" || type == "longrope" else {
            throw ModelError.unsupported("\(file): rope type '\(type)' is not supported for phi3 (default or longrope)")
        }
        ropeType = type
        // transformers gives priority to the top-level value; Phi3Config defaults it to 4096.
        originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
            ?? rope?.originalMaxPositionEmbeddings ?? 4096
        ropeScalingFactor = rope?.factor
        ropeAttentionFactor = rope?.attentionFactor
        let ropeKey: CodingKeys = c.contains(.ropeScaling) ? .ropeScaling : .ropeParameters
        if type == "longrope" {
            guard let s = rope?.shortFactor, let l = rope?.longFactor else {
                throw bad(ropeKey, "longrope needs short_factor and long_factor lists")
            }
            ropeFactorsShort = s
            ropeFactorsLong = l
        } else {
            ropeFactorsShort = nil
            ropeFactorsLong = nil
        }
        // Every size against PhiKit's limits, the derived ones computed with overflow reported (issue 10).
        var keys: [String: String] = [:]
        if file.hasSuffix(".gguf") {
            keys = DecoderDimensions.ggufKeys("phi3")
            keys["head_dim"] = "phi3.embedding_length / phi3.attention.head_count"
        }
        try Phi3Model.dimensions(for: self).validate(file: file, ggufKeys: keys)
        guard originalMaxPositionEmbeddings > 0, originalMaxPositionEmbeddings <= ConfigLimits.positions else {
            throw ModelError.malformedConfig(file: file, reason: "'original_max_position_embeddings' must be between 1 and \(ConfigLimits.positions), got \(originalMaxPositionEmbeddings)")
        }
        guard ropeTheta.isFinite, ropeTheta > 0 else { throw bad(.ropeTheta, "must be a finite positive number, got \(ropeTheta)") }
        guard rmsNormEps.isFinite, rmsNormEps >= 0 else { throw bad(.rmsNormEps, "must be a finite non-negative number, got \(rmsNormEps)") }
        for (name, v) in [("factor", ropeScalingFactor), ("attention_factor", ropeAttentionFactor)] {
            if let v, !(v.isFinite && v > 0) { throw bad(ropeKey, "\(name) must be a finite positive number, got \(v)") }
        }
        let rotary = rotaryDim
        guard rotary >= 2, rotary % 2 == 0 else {
            throw bad(.partialRotaryFactor, "partial_rotary_factor \(partialRotaryFactor) × head_dim \(headDim) gives \(rotary) rotary dims; they must be even and at least 2")
        }
        let half = rotary / 2
        if let s = ropeFactorsShort, let l = ropeFactorsLong, s.count != half || l.count != half {
            throw bad(ropeKey, "rope short/long factor lists must have \(half) entries (rotary dims / 2), got \(s.count) and \(l.count)")
        }
    }
}
