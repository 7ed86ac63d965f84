import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Audio features for the language model (reference §7–8): the conformer encoder, then one of two
/// projectors (Linear → exact GELU → Linear): `speech` for audio-only prompts, `vision` for image+audio.
public final class Phi4MMAudioEmbedder: @unchecked Sendable {
    public enum Projection: Sendable { case speech, visionSpeech }

    public let encoder: ConformerEncoder
    let speechProjector: GELUProjector
    let visionProjector: GELUProjector
    let parallel: Parallel

    public init(config: ConformerConfig, lmHidden: Int, weights w: TensorSource, parallel: Parallel) throws {
        let p = "model.embed_tokens_extend.audio_embed."
        encoder = try ConformerEncoder(config: config, weights: w, prefix: p + "encoder.", parallel: parallel)
        func lin(_ n: String, _ o: Int, _ i: Int) throws -> BiasedLinear {
            try BiasedLinear(weight: try w.tensor(p + n + ".weight", shape: [o, i]), bias: try w.tensor(p + n + ".bias", shape: [o]), name: p + n)
        }
        let D = config.attentionDim
        speechProjector = try GELUProjector(up: try lin("up_proj_for_speech", lmHidden, D),
                                            down: try lin("down_proj_for_speech", lmHidden, lmHidden))
        visionProjector = try GELUProjector(up: try lin("up_proj_for_vision_speech", lmHidden, D),
                                            down: try lin("down_proj_for_vision_speech", lmHidden, lmHidden))
        self.parallel = parallel
    }

    /// Projects encoder output [frames, D] → [frames, LM hidden].
    public func project(_ encoded: [Float], frames: Int, mode: Projection) -> [Float] {
        (mode == .speech ? speechProjector : visionProjector)(encoded, rows: frames, parallel: parallel)
    }

    /// Features [frames, 80] → projected audio embeddings [⌈frames/8⌉, LM hidden].
    public func embed(features: [Float], frames: Int, mode: Projection) throws -> [Float] {
        let encoded = try encoder.encode(features, frames: frames)
        return project(encoded, frames: encoder.outputFrames(frames), mode: mode)
    }
}
