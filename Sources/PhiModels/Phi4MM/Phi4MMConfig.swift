import Foundation

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
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("config.json")),
              let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return ["phi4mm", "phi4_multimodal"].contains(j["model_type"] as? String ?? "")
    }

    public static func load(directory: URL) throws -> Phi4MMConfig {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else { throw ModelError.missingFile(url.path) }
        var c = try parse(data, file: url.path)
        if c.layout == .native {
            // PEFT adapter folders carry the LoRA rank and alpha.
            for (name, keyPath) in [("vision-lora", \Phi4MMConfig.visionLoRA), ("speech-lora", \Phi4MMConfig.speechLoRA)] {
                let file = directory.appendingPathComponent(name).appendingPathComponent("adapter_config.json")
                guard let d = try? Data(contentsOf: file) else { continue }
                guard let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else {
                    throw ModelError.malformedConfig(file: file.path, reason: "not a valid JSON object")
                }
                c[keyPath: keyPath] = try loraConfig(j, file: file.path)
            }
        }
        return c
    }

    public static func parse(_ data: Data, file: String = "config.json") throws -> Phi4MMConfig {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ModelError.malformedConfig(file: file, reason: "not valid JSON (\(error.localizedDescription))")
        }
        guard let j = object as? [String: Any] else { throw ModelError.malformedConfig(file: file, reason: "expected a JSON object") }
        let type = j["model_type"] as? String ?? ""
        guard let layout: Layout = type == "phi4mm" ? .original : type == "phi4_multimodal" ? .native : nil else {
            throw ModelError.unsupportedArchitecture(type.isEmpty ? "(none given)" : type)
        }
        var c = Phi4MMConfig(layout: layout, language: try Phi3Config(json: j, file: file))
        func bad(_ r: String) -> ModelError { .malformedConfig(file: file, reason: r) }
        func int(_ d: [String: Any], _ k: String) throws -> Int? {
            guard let v = d[k], !(v is NSNull) else { return nil }
            guard let n = v as? NSNumber, !(v is Bool), let i = Int(exactly: n.doubleValue) else { throw bad("'\(k)' must be an integer") }
            return i
        }
        func positive(_ d: [String: Any], _ k: String, _ current: Int) throws -> Int {
            guard let v = try int(d, k) else { return current }
            guard v > 0 else { throw bad("'\(k)' must be positive, got \(v)") }
            return v
        }
        if let v = j["vision_config"] as? [String: Any] {
            c.vision.hiddenSize = try positive(v, "hidden_size", c.vision.hiddenSize)
            c.vision.intermediateSize = try positive(v, "intermediate_size", c.vision.intermediateSize)
            c.vision.numHiddenLayers = try positive(v, "num_hidden_layers", c.vision.numHiddenLayers)
            c.vision.numAttentionHeads = try positive(v, "num_attention_heads", c.vision.numAttentionHeads)
            c.vision.imageSize = try positive(v, "image_size", c.vision.imageSize)
            c.vision.patchSize = try positive(v, "patch_size", c.vision.patchSize)
            if let e = v["layer_norm_eps"] as? NSNumber { c.vision.layerNormEps = e.floatValue }
            if let f = try int(v, "feature_layer") { c.vision.featureLayer = f }
            c.imageTokenID = try int(v, "image_token_id") ?? c.imageTokenID
        }
        let v = c.vision
        guard v.hiddenSize % v.numAttentionHeads == 0 else { throw bad("vision hidden_size must be a multiple of num_attention_heads") }
        guard v.imageSize % v.patchSize == 0, v.patchesPerSide % 2 == 0 else {
            throw bad("vision image_size must be an even multiple of patch_size")
        }
        guard v.layersToRun >= 1, v.layersToRun <= v.numHiddenLayers else { throw bad("vision feature_layer \(v.featureLayer) is out of range") }
        guard v.imageSize == 448, v.patchSize == 14 else {
            throw ModelError.unsupported("\(file): PhiKit's image preprocessing is for 448-pixel crops of 14-pixel patches")
        }

        // Audio: native `audio_config`, original `audio_processor.config`.
        let a = (j["audio_config"] as? [String: Any]) ?? ((j["audio_processor"] as? [String: Any])?["config"] as? [String: Any])
        if let a {
            c.audio.inputSize = try positive(a, "input_size", c.audio.inputSize)
            c.audio.attentionDim = try positive(a, "attention_dim", try positive(a, "hidden_size", c.audio.attentionDim))
            c.audio.attentionHeads = try positive(a, "attention_heads", try positive(a, "num_attention_heads", c.audio.attentionHeads))
            c.audio.linearUnits = try positive(a, "linear_units", try positive(a, "intermediate_size", c.audio.linearUnits))
            c.audio.numBlocks = try positive(a, "num_blocks", c.audio.numBlocks)
            c.audio.kernelSize = try positive(a, "kernel_size", c.audio.kernelSize)
            c.audio.timeReduction = try positive(a, "time_reduction", c.audio.timeReduction)
            c.audio.extPwOutChannel = try positive(a, "ext_pw_out_channel", c.audio.extPwOutChannel)
            c.audio.depthwiseSeparableOutChannel = try positive(a, "depthwise_seperable_out_channel",
                                                                try positive(a, "depthwise_separable_out_channel", c.audio.depthwiseSeparableOutChannel))
            if let n = a["nemo_conv_settings"] as? [String: Any] { c.audio.convChannels = try positive(n, "conv_channels", c.audio.convChannels) }
            c.audio.convChannels = try positive(a, "nemo_conv_channels", c.audio.convChannels)
            if let r = a["relative_attention_bias_args"] as? [String: Any] {
                c.audio.biasMaxDistance = try positive(r, "t5_bias_max_distance", c.audio.biasMaxDistance)
            }
            c.audio.biasMaxDistance = try positive(a, "bias_max_distance", c.audio.biasMaxDistance)
            c.audioTokenID = try int(a, "audio_token_id") ?? c.audioTokenID
        }
        if let l = j["vision_lora"] as? [String: Any] { c.visionLoRA = try loraConfig(l, file: file) }
        if let l = j["speech_lora"] as? [String: Any] { c.speechLoRA = try loraConfig(l, file: file) }
        return c
    }

    static func loraConfig(_ j: [String: Any], file: String) throws -> LoRAConfig {
        guard let r = (j["r"] as? NSNumber)?.intValue, r > 0 else {
            throw ModelError.malformedConfig(file: file, reason: "LoRA config needs a positive 'r'")
        }
        let alpha = (j["lora_alpha"] as? NSNumber)?.doubleValue ?? Double(r)
        return LoRAConfig(rank: r, alpha: alpha)
    }
}
