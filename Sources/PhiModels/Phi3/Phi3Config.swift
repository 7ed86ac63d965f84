import Foundation
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
        guard let data = try? Data(contentsOf: url) else { throw ModelError.missingFile(url.path) }
        return try parse(data, file: url.path)
    }

    public static func parse(_ data: Data, file: String = "config.json") throws -> Phi3Config {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ModelError.malformedConfig(file: file, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let j = object as? [String: Any] else {
            throw ModelError.malformedConfig(file: file, reason: "expected a JSON object")
        }
        return try Phi3Config(json: j, file: file)
    }

    init(json j: [String: Any], file: String) throws {
        func bad(_ r: String) -> ModelError { .malformedConfig(file: file, reason: r) }
        func int(_ k: String, in d: [String: Any]? = nil) throws -> Int? {
            guard let v = (d ?? j)[k], !(v is NSNull) else { return nil }
            if let n = v as? NSNumber, !(v is Bool), let i = Int(exactly: n.doubleValue) { return i }
            throw bad("'\(k)' must be an integer")
        }
        func num(_ k: String, in d: [String: Any]? = nil) throws -> Double? {
            guard let v = (d ?? j)[k], !(v is NSNull) else { return nil }
            if let n = v as? NSNumber, !(v is Bool) { return n.doubleValue }
            throw bad("'\(k)' must be a number")
        }
        func req(_ k: String) throws -> Int {
            guard let v = try int(k) else { throw bad("missing '\(k)'") }
            guard v > 0 else { throw bad("'\(k)' must be positive, got \(v)") }
            return v
        }
        modelType = (j["model_type"] as? String) ?? ""
        guard ["phi3", "phi4mm", "phi4_multimodal"].contains(modelType) || (j["architectures"] as? [String])?.contains("Phi3ForCausalLM") == true else {
            let arch = (j["architectures"] as? [String])?.first ?? modelType
            throw ModelError.unsupportedArchitecture(arch.isEmpty ? "(none given)" : arch)
        }
        vocabSize = try req("vocab_size")
        hiddenSize = try req("hidden_size")
        intermediateSize = try req("intermediate_size")
        numHiddenLayers = try req("num_hidden_layers")
        numAttentionHeads = try req("num_attention_heads")
        numKeyValueHeads = try int("num_key_value_heads") ?? numAttentionHeads
        guard numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw bad("num_attention_heads (\(numAttentionHeads)) must be a multiple of num_key_value_heads (\(numKeyValueHeads))")
        }
        headDim = try int("head_dim") ?? hiddenSize / numAttentionHeads
        guard headDim > 0 else { throw bad("head_dim must be positive") }
        rmsNormEps = Float(try num("rms_norm_eps") ?? 1e-5)
        maxPositionEmbeddings = try int("max_position_embeddings") ?? 4096
        hiddenAct = (j["hidden_act"] as? String) ?? "silu"
        guard hiddenAct == "silu" else { throw ModelError.unsupported("\(file): hidden_act '\(hiddenAct)' is not supported (only silu)") }
        tieWordEmbeddings = (j["tie_word_embeddings"] as? Bool) ?? false
        slidingWindow = try int("sliding_window")
        bosTokenId = try int("bos_token_id")
        if let e = j["eos_token_id"] as? [NSNumber] { eosTokenIds = e.map { $0.intValue } }
        else if let e = try int("eos_token_id") { eosTokenIds = [e] } else { eosTokenIds = [] }

        // RoPE: `rope_scaling` (older files) or `rope_parameters` (transformers 5).
        let rope: [String: Any]? = (j["rope_scaling"] as? [String: Any]) ?? (j["rope_parameters"] as? [String: Any])
        ropeTheta = try num("rope_theta") ?? (rope.flatMap { try? num("rope_theta", in: $0) }) ?? 10000
        partialRotaryFactor = try num("partial_rotary_factor") ?? (rope.flatMap { try? num("partial_rotary_factor", in: $0) }) ?? 1.0
        guard partialRotaryFactor > 0, partialRotaryFactor <= 1 else { throw bad("partial_rotary_factor must be in (0, 1]") }
        var type = (rope?["rope_type"] as? String) ?? (rope?["type"] as? String) ?? "default"
        if type == "su" || type == "yarn" { type = "longrope" } // transformers' Phi-3 back-compat rule
        guard type == "default" || type == "longrope" else {
            throw ModelError.unsupported("\(file): rope type '\(type)' is not supported for phi3 (default or longrope)")
        }
        ropeType = type
        // transformers gives priority to the top-level value; Phi3Config defaults it to 4096.
        originalMaxPositionEmbeddings = try int("original_max_position_embeddings")
            ?? (rope.flatMap { try? int("original_max_position_embeddings", in: $0) }) ?? 4096
        ropeScalingFactor = rope.flatMap { try? num("factor", in: $0) }
        ropeAttentionFactor = rope.flatMap { try? num("attention_factor", in: $0) }
        if type == "longrope" {
            guard let s = rope?["short_factor"] as? [NSNumber], let l = rope?["long_factor"] as? [NSNumber] else {
                throw bad("longrope needs short_factor and long_factor lists")
            }
            ropeFactorsShort = s.map { $0.floatValue }
            ropeFactorsLong = l.map { $0.floatValue }
        } else {
            ropeFactorsShort = nil
            ropeFactorsLong = nil
        }
        let half = Int(Double(headDim) * partialRotaryFactor) / 2
        if let s = ropeFactorsShort, let l = ropeFactorsLong, s.count != half || l.count != half {
            throw bad("rope short/long factor lists must have \(half) entries (rotary dims / 2), got \(s.count) and \(l.count)")
        }
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
