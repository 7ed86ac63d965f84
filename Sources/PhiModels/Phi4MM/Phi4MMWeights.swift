import Foundation
import PhiTensor
import PhiWeights

/// Phi-4-multimodal's weights in either published layout, asked for by canonical name (the
/// transformers-native names). The original hub layout stores the LM's LoRA targets as
/// `….base_layer.weight` beside `….lora_A.<adapter>.weight`, and a few encoder tensors under older names;
/// the native layout keeps LoRAs in PEFT folders (`vision-lora/`, `speech-lora/`). reference §9.
public final class Phi4MMWeights: TensorSource, @unchecked Sendable {
    public let layout: Phi4MMConfig.Layout
    let main: WeightStore
    let adapters: [String: WeightStore]

    public init(directory: URL, layout: Phi4MMConfig.Layout) throws {
        self.layout = layout
        main = try WeightStore(directory: directory)
        var adapters: [String: WeightStore] = [:]
        if layout == .native {
            for name in ["vision", "speech"] {
                let dir = directory.appendingPathComponent("\(name)-lora")
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("adapter_model.safetensors").path) {
                    adapters[name] = try WeightStore(files: [dir.appendingPathComponent("adapter_model.safetensors")])
                }
            }
        }
        self.adapters = adapters
    }

    /// Canonical (native) → original renames, applied to the substring after the given prefix (reference §9).
    static let originalRenames: [(prefix: String, canonical: String, original: String)] = {
        var r: [(String, String, String)] = []
        for m in ["self_attn.qkv_proj", "self_attn.o_proj", "mlp.gate_up_proj", "mlp.down_proj"] {
            r.append(("model.layers.", "\(m).weight", "\(m).base_layer.weight"))
        }
        let img = "model.embed_tokens_extend.image_embed."
        r += [(img, "global_img_feature_extensor", "glb_GN"), (img, "sub_img_feature_extensor", "sub_GN"),
              (img, "img_projection_up.", "img_projection.0."), (img, "img_projection_down.", "img_projection.2.")]
        let aud = "model.embed_tokens_extend.audio_embed."
        for f in ["feed_forward_in", "feed_forward_out"] {
            r += [(aud, "\(f).gate_up_proj.", "\(f).net.0.linear."), (aud, "\(f).down_proj.", "\(f).net.2.")]
        }
        r += [(aud, "self_attn.q_proj.", "self_attn.linear_q."), (aud, "self_attn.k_proj.", "self_attn.linear_k."),
              (aud, "self_attn.v_proj.", "self_attn.linear_v."), (aud, "self_attn.o_proj.", "self_attn.linear_out."),
              (aud, "up_proj_for_speech.", "audio_projection.speech.0."), (aud, "down_proj_for_speech.", "audio_projection.speech.2."),
              (aud, "up_proj_for_vision_speech.", "audio_projection.vision.0."),
              (aud, "down_proj_for_vision_speech.", "audio_projection.vision.2.")]
        return r
    }()

    /// The name `canonical` has in this checkpoint.
    public func storedName(_ canonical: String) -> String {
        guard layout == .original else { return canonical }
        for (prefix, c, o) in Self.originalRenames where canonical.hasPrefix(prefix) {
            if let range = canonical.range(of: c, options: .backwards) { return canonical.replacingCharacters(in: range, with: o) }
        }
        return canonical
    }

    public func contains(_ name: String) -> Bool { main.contains(storedName(name)) }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let stored = storedName(name)
        guard main.contains(stored) else { throw ModelError.missingWeight(stored) }
        return try main.tensor(stored, shape: shape)
    }

    /// LoRA factor `part` ("A" or "B") of `adapter` ("vision"/"speech") on `module` (e.g.
    /// "model.layers.3.self_attn.qkv_proj"), or nil when the checkpoint has no such adapter at all.
    public func loraTensor(adapter: String, module: String, part: String, shape: [Int]) throws -> Tensor? {
        switch layout {
        case .original:
            let name = "\(module).lora_\(part).\(adapter).weight"
            guard main.contains(name) else { return nil }
            return try main.tensor(name, shape: shape)
        case .native:
            guard let store = adapters[adapter] else { return nil }
            for name in ["base_model.model.\(module).lora_\(part).weight", "\(module).lora_\(part).weight",
                         "base_model.model.\(module).lora_\(part).default.weight"] where store.contains(name) {
                return try store.tensor(name, shape: shape)
            }
            throw ModelError.missingWeight("\(adapter)-lora: \(module).lora_\(part).weight")
        }
    }

    public func hasAdapter(_ adapter: String) -> Bool {
        switch layout {
        case .original: return main.contains("model.layers.0.self_attn.qkv_proj.lora_A.\(adapter).weight")
        case .native: return adapters[adapter] != nil
        }
    }

    public func unusedNames() -> [String] {
        main.unusedNames() + adapters.sorted { $0.key < $1.key }.flatMap { a in a.value.unusedNames().map { "\(a.key)-lora/\($0)" } }
    }
}
