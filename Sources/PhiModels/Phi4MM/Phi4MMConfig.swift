import Foundation
import PhiJSON

/// SigLIP vision tower dimensions. The original Phi-4-multimodal code hard-codes them (so400m, 448 px,
/// patch 14); the transformers-native config carries them in `vision_config`, which PhiKit also reads from
/// an original-layout config when present (tiny test models use it).
public struct SiglipConfig: Sendable, Equatable {
    public var hiddenSize = 1152
    public var intermediateSize = 4304
    public var numHiddenLayers = 27
    public var numAttentionHeads = 16
    public var imageSize = 448
    public var patchSize = 14
    public var layerNormEps: Float = 1e-6
    /// Features come from hidden_states[featureLayer] (−2: the output of the last-but-one layer).
    public var featureLayer = -2

    public var headDim: Int { hiddenSize / numAttentionHeads }
    public var patchesPerSide: Int { imageSize / patchSize }
    /// Number of encoder layers that run: hidden_states[k] is the output of layer k (index 0 = embeddings).
    public var layersToRun: Int { featureLayer < 0 ? numHiddenLayers + 1 + featureLayer : featureLayer }
}

/// The conformer speech encoder's dimensions (original `audio_processor.config` / native `audio_config`).
public struct ConformerConfig: Sendable, Equatable {
    public var inputSize = 80
    public var attentionDim = 1024
    public var attentionHeads = 16
    public var linearUnits = 1536
    public var numBlocks = 24
    public var kernelSize = 3
    public var timeReduction = 8
    public var convChannels = 1024
    public var extPwOutChannel = 1024
    public var depthwiseSeparableOutChannel = 1024
    public var biasMaxDistance = 500
    public var chunkSize = 500
}

/// A LoRA adapter's rank and scale.
public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    public var scale: Float { Float(alpha / Double(rank)) }
}

/// config.json of Phi-4-multimodal in either published layout:
/// - original (`model_type` phi4mm, hub remote code): LoRA weights inside the checkpoint, `vision_lora` /
///   `speech_lora` and `audio_processor` in the config;
/// - transformers-native (`model_type` phi4_multimodal): `vision_config`/`audio_config`, LoRAs as PEFT folders.
public struct Phi4MMConfig: Sendable {
    public enum Layout: String, Sendable { case original, native }

    public var layout: Layout
    public var language: Phi3Config
    public var vision = SiglipConfig()
    public var audio = ConformerConfig()
    public var visionLoRA: LoRAConfig?
    public var speechLoRA: LoRAConfig?
    /// Placeholder ids: `<|endoftext10|>` (image) and `<|endoftext11|>` (audio) in Phi-4's vocabulary.
    public var imageTokenID = 200010
    public var audioTokenID = 200011

    public static func isMultimodal(directory: URL) -> Bool {
        struct ModelType: Decodable {
            var modelType: String?
            enum CodingKeys: String, CodingKey { case modelType = "model_type" }
        }
        guard let data = try? ModelFile.read(directory.appendingPathComponent("config.json")),
              let probe = try? PhiJSONDecoder().decode(ModelType.self, from: data) else { return false }
        return ["phi4mm", "phi4_multimodal"].contains(probe.modelType ?? "")
    }

    public static func load(directory: URL) throws -> Phi4MMConfig {
        let url = directory.appendingPathComponent("config.json")
        let data = try ModelFile.read(url)
        var c = try parse(data, file: url.path)
        if c.layout == .native {
            // PEFT adapter folders carry the LoRA rank and alpha.
            for (name, keyPath) in [("vision-lora", \Phi4MMConfig.visionLoRA), ("speech-lora", \Phi4MMConfig.speechLoRA)] {
                let file = directory.appendingPathComponent(name).appendingPathComponent("adapter_config.json")
                guard let d = try ModelFile.readIfPresent(file) else { continue }
                c[keyPath: keyPath] = try decodeConfig(LoRAConfig.self, from: d, file: file.path)
            }
        }
        return c
    }

    public static func parse(_ data: Data, file: String = "config.json") throws -> Phi4MMConfig {
        try decodeConfig(Phi4MMConfig.self, from: data, file: file)
    }

}

/// A LoRA's `r` and `lora_alpha`: in the original config's `vision_lora`/`speech_lora`, or a PEFT
/// adapter_config.json (alpha defaults to r).
extension LoRAConfig: Decodable {
    enum CodingKeys: String, CodingKey { case rank = "r", alpha = "lora_alpha" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let r = try c.decodePositiveIfPresent(.rank) else {
            throw DecodingError.keyNotFound(CodingKeys.rank, .init(codingPath: c.codingPath, debugDescription: "LoRA config needs a positive 'r'"))
        }
        self.init(rank: r, alpha: try c.decodeIfPresent(Double.self, forKey: .alpha) ?? Double(r))
    }
}

/// Decoded with PhiJSON: explicit keys, exact numbers, errors naming the field.
extension Phi4MMConfig: Decodable {
    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", visionConfig = "vision_config", audioConfig = "audio_config"
        case audioProcessor = "audio_processor", visionLoRA = "vision_lora", speechLoRA = "speech_lora"
    }

    /// The original layout's `audio_processor`: `{"name": ..., "config": {...}}`.
    struct AudioProcessor: Decodable {
        var config: AudioFields?
    }

    /// `vision_config` (native layout, tiny test models); absent fields keep SigLIP so400m's values.
    struct VisionFields: Decodable {
        var hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, imageSize, patchSize: Int?
        var layerNormEps: Float?
        var featureLayer, imageTokenId: Int?

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
            case numAttentionHeads = "num_attention_heads", imageSize = "image_size", patchSize = "patch_size"
            case layerNormEps = "layer_norm_eps", featureLayer = "feature_layer", imageTokenId = "image_token_id"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            hiddenSize = try c.decodePositiveIfPresent(.hiddenSize)
            intermediateSize = try c.decodePositiveIfPresent(.intermediateSize)
            numHiddenLayers = try c.decodePositiveIfPresent(.numHiddenLayers, limit: ConfigLimits.layers)
            numAttentionHeads = try c.decodePositiveIfPresent(.numAttentionHeads, limit: ConfigLimits.heads)
            imageSize = try c.decodePositiveIfPresent(.imageSize)
            patchSize = try c.decodePositiveIfPresent(.patchSize)
            layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps)
            featureLayer = try c.decodeIfPresent(Int.self, forKey: .featureLayer)
            imageTokenId = try c.decodeIfPresent(Int.self, forKey: .imageTokenId)
        }
    }

    /// `audio_config` (native) or `audio_processor.config` (original): the two layouts name some fields
    /// differently; where both are given the original name wins, as before.
    struct AudioFields: Decodable {
        var values: [CodingKeys: Int] = [:]
        var convChannels: Int?
        var biasMaxDistance: Int?
        var audioTokenId: Int?

        enum CodingKeys: String, CodingKey {
            case inputSize = "input_size", attentionDim = "attention_dim", hiddenSize = "hidden_size"
            case attentionHeads = "attention_heads", numAttentionHeads = "num_attention_heads"
            case linearUnits = "linear_units", intermediateSize = "intermediate_size", numBlocks = "num_blocks"
            case kernelSize = "kernel_size", timeReduction = "time_reduction", extPwOutChannel = "ext_pw_out_channel"
            case depthwiseSeperableOutChannel = "depthwise_seperable_out_channel"  // sic, the original config's spelling
            case depthwiseSeparableOutChannel = "depthwise_separable_out_channel"
            case nemoConvSettings = "nemo_conv_settings", nemoConvChannels = "nemo_conv_channels"
            case relativeAttentionBiasArgs = "relative_attention_bias_args", biasMaxDistance = "bias_max_distance"
            case audioTokenId = "audio_token_id"
        }
        enum NemoKeys: String, CodingKey { case convChannels = "conv_channels" }
        enum BiasKeys: String, CodingKey { case t5BiasMaxDistance = "t5_bias_max_distance" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            for key: CodingKeys in [.inputSize, .attentionDim, .hiddenSize, .attentionHeads, .numAttentionHeads, .linearUnits,
                                    .intermediateSize, .numBlocks, .kernelSize, .timeReduction, .extPwOutChannel,
                                    .depthwiseSeperableOutChannel, .depthwiseSeparableOutChannel] {
                if let v = try c.decodePositiveIfPresent(key) { values[key] = v }
            }
            if c.contains(.nemoConvSettings), try !c.decodeNil(forKey: .nemoConvSettings) {
                let n = try c.nestedContainer(keyedBy: NemoKeys.self, forKey: .nemoConvSettings)
                convChannels = try n.decodePositiveIfPresent(.convChannels)
            }
            convChannels = try c.decodePositiveIfPresent(.nemoConvChannels) ?? convChannels
            if c.contains(.relativeAttentionBiasArgs), try !c.decodeNil(forKey: .relativeAttentionBiasArgs) {
                let r = try c.nestedContainer(keyedBy: BiasKeys.self, forKey: .relativeAttentionBiasArgs)
                biasMaxDistance = try r.decodePositiveIfPresent(.t5BiasMaxDistance)
            }
            biasMaxDistance = try c.decodePositiveIfPresent(.biasMaxDistance) ?? biasMaxDistance
            audioTokenId = try c.decodeIfPresent(Int.self, forKey: .audioTokenId)
        }

        func apply(to a: inout ConformerConfig) {
            a.inputSize = values[.inputSize] ?? a.inputSize
            a.attentionDim = values[.attentionDim] ?? values[.hiddenSize] ?? a.attentionDim
            a.attentionHeads = values[.attentionHeads] ?? values[.numAttentionHeads] ?? a.attentionHeads
            a.linearUnits = values[.linearUnits] ?? values[.intermediateSize] ?? a.linearUnits
            a.numBlocks = values[.numBlocks] ?? a.numBlocks
            a.kernelSize = values[.kernelSize] ?? a.kernelSize
            a.timeReduction = values[.timeReduction] ?? a.timeReduction
            a.extPwOutChannel = values[.extPwOutChannel] ?? a.extPwOutChannel
            a.depthwiseSeparableOutChannel = values[.depthwiseSeperableOutChannel] ?? values[.depthwiseSeparableOutChannel]
                ?? a.depthwiseSeparableOutChannel
            a.convChannels = convChannels ?? a.convChannels
            a.biasMaxDistance = biasMaxDistance ?? a.biasMaxDistance
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let file = decoder.configFile
        let type = try c.decodeIfPresent(String.self, forKey: .modelType) ?? ""
        guard let layout: Layout = type == "phi4mm" ? .original : type == "phi4_multimodal" ? .native : nil else {
            throw ModelError.unsupportedArchitecture(type.isEmpty ? "(none given)" : type)
        }
        self.init(layout: layout, language: try Phi3Config(from: decoder))
        func bad(_ r: String) -> ModelError { .malformedConfig(file: file, reason: r) }
        if let v = try c.decodeIfPresent(VisionFields.self, forKey: .visionConfig) {
            vision.hiddenSize = v.hiddenSize ?? vision.hiddenSize
            vision.intermediateSize = v.intermediateSize ?? vision.intermediateSize
            vision.numHiddenLayers = v.numHiddenLayers ?? vision.numHiddenLayers
            vision.numAttentionHeads = v.numAttentionHeads ?? vision.numAttentionHeads
            vision.imageSize = v.imageSize ?? vision.imageSize
            vision.patchSize = v.patchSize ?? vision.patchSize
            vision.layerNormEps = v.layerNormEps ?? vision.layerNormEps
            vision.featureLayer = v.featureLayer ?? vision.featureLayer
            imageTokenID = v.imageTokenId ?? imageTokenID
        }
        let v = vision
        guard v.hiddenSize % v.numAttentionHeads == 0 else { throw bad("vision hidden_size must be a multiple of num_attention_heads") }
        guard v.imageSize % v.patchSize == 0, v.patchesPerSide % 2 == 0 else {
            throw bad("vision image_size must be an even multiple of patch_size")
        }
        guard v.layersToRun >= 1, v.layersToRun <= v.numHiddenLayers else { throw bad("vision feature_layer \(v.featureLayer) is out of range") }
        guard v.imageSize == 448, v.patchSize == 14 else {
            throw ModelError.unsupported("\(file): PhiKit's image preprocessing is for 448-pixel crops of 14-pixel patches")
        }

        // Audio: native `audio_config`, original `audio_processor.config`.
        let a = try c.decodeIfPresent(AudioFields.self, forKey: .audioConfig)
            ?? c.decodeIfPresent(AudioProcessor.self, forKey: .audioProcessor)?.config
        if let a {
            a.apply(to: &audio)
            audioTokenID = a.audioTokenId ?? audioTokenID
        }
        guard audio.attentionDim % audio.attentionHeads == 0 else {
            throw bad("audio attention_dim \(audio.attentionDim) must be a multiple of its attention_heads \(audio.attentionHeads)")
        }
        visionLoRA = try c.decodeIfPresent(LoRAConfig.self, forKey: .visionLoRA)
        speechLoRA = try c.decodeIfPresent(LoRAConfig.self, forKey: .speechLoRA)
    }
}
