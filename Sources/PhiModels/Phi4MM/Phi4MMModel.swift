import Foundation
import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Phi-4-multimodal-instruct: the Phi-4-mini language model plus the SigLIP image embedder (and the
/// conformer speech encoder), with a vision and a speech LoRA on the LM chosen by input mode (reference §2):
/// text → base weights; images → vision LoRA; audio → speech LoRA; images + audio → vision LoRA.
/// The adapters run beside the shared base weights (never merged), selected per request via `Conditioning`.
public final class Phi4MMModel: DecoderLanguageModel, @unchecked Sendable {
    public let config: Phi4MMConfig
    public let decoder: TransformerDecoder
    public let vision: Phi4MMImageEmbedder
    public let audio: Phi4MMAudioEmbedder
    public let visionLoRA: LoRAAdapter?
    public let speechLoRA: LoRAAdapter?

    public enum InputMode: Sendable { case text, vision, speech, visionSpeech }

    public convenience init(directory: URL, parallel: Parallel = Parallel(), transform: WeightTransform? = nil) throws {
        try self.init(directory: directory, options: ModelLoadOptions(parallel: parallel, transform: transform))
    }

    public convenience init(directory: URL, options: ModelLoadOptions) throws {
        let config = try Phi4MMConfig.load(directory: directory)
        try self.init(config: config, weights: try Phi4MMWeights(directory: directory, layout: config.layout),
                      options: options)
    }

    public convenience init(config c: Phi4MMConfig, weights w: Phi4MMWeights, parallel: Parallel = Parallel(),
                            transform: WeightTransform? = nil) throws {
        try self.init(config: c, weights: w, options: ModelLoadOptions(parallel: parallel, transform: transform))
    }

    /// The language model binds as Phi-3 does, with `options`; the encoders and adapters are bound as stored.
    public init(config c: Phi4MMConfig, weights w: Phi4MMWeights, options: ModelLoadOptions) throws {
        config = c
        let lm = c.language, parallel = options.parallel
        decoder = try Phi3Model.makeDecoder(config: lm, weights: w, options: options)
        vision = try Phi4MMImageEmbedder(config: c.vision, lmHidden: lm.hiddenSize, weights: w, parallel: parallel)
        audio = try Phi4MMAudioEmbedder(config: c.audio, lmHidden: lm.hiddenSize, weights: w, parallel: parallel)
        visionLoRA = try Self.bindLoRA("vision", config: c.visionLoRA, lm: lm, weights: w)
        speechLoRA = try Self.bindLoRA("speech", config: c.speechLoRA, lm: lm, weights: w)
        let unused = w.unusedNames()
        guard unused.isEmpty else { throw ModelError.unexpectedWeights(unused) }
    }

    static func bindLoRA(_ name: String, config: LoRAConfig?, lm: Phi3Config, weights w: Phi4MMWeights) throws -> LoRAAdapter? {
        guard w.hasAdapter(name) else { return nil }
        guard let config else {
            throw ModelError.malformedConfig(file: "config.json", reason: "the checkpoint has a \(name) LoRA but the config gives no rank/alpha for it")
        }
        let H = lm.hiddenSize, r = config.rank
        let sizes = try Phi3Model.dimensions(for: lm).validate(file: "config.json")  // products with overflow reported
        let modules: [(String, Int, Int)] = [("self_attn.qkv_proj", H, sizes.qkvWidth), ("self_attn.o_proj", sizes.queryWidth, H),
                                             ("mlp.gate_up_proj", H, sizes.gateUpWidth), ("mlp.down_proj", lm.intermediateSize, H)]
        var layers: [LayerLoRA] = []
        for i in 0..<lm.numHiddenLayers {
            var found: [LoRA] = []
            for (m, inp, out) in modules {
                let module = "model.layers.\(i).\(m)"
                guard let a = try w.loraTensor(adapter: name, module: module, part: "A", shape: [r, inp]),
                      let b = try w.loraTensor(adapter: name, module: module, part: "B", shape: [out, r]) else {
                    throw ModelError.missingWeight("\(module).lora_A/B.\(name).weight")
                }
                found.append(try LoRA(a: try Linear(weight: a, name: module), b: try Linear(weight: b, name: module),
                                      scale: config.scale, name: module))
            }
            layers.append(LayerLoRA(qkv: found[0], o: found[1], gateUp: found[2], down: found[3]))
        }
        return LoRAAdapter(name: name, layers: layers)
    }

    /// The adapter an input mode runs with (reference §2). A checkpoint without it (e.g. a native-layout
    /// folder missing `vision-lora/`) cannot answer about that input correctly, so that is an error.
    public func adapter(for mode: InputMode) throws -> LoRAAdapter? {
        switch mode {
        case .text: return nil
        case .vision, .visionSpeech:
            guard let a = visionLoRA else { throw ModelError.missingWeight("the vision LoRA (lora_A/B.vision, or the vision-lora/ adapter folder)") }
            return a
        case .speech:
            guard let a = speechLoRA else { throw ModelError.missingWeight("the speech LoRA (lora_A/B.speech, or the speech-lora/ adapter folder)") }
            return a
        }
    }
}
