import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Audio features for the language model (reference §7–8): the conformer encoder, then one of two
/// projectors (Linear → exact GELU → Linear): `speech` for audio-only prompts, `vision` for image+audio.
public final class Phi4MMAudioEmbedder: @unchecked Sendable {
    public enum Projection: Sendable { case speech, visionSpeech }

    public let encoder: ConformerEncoder
    let speechUp: BiasedLinear, speechDown: BiasedLinear
    let visionUp: BiasedLinear, visionDown: BiasedLinear
    let parallel: Parallel

    public init(config: ConformerConfig, lmHidden: Int, weights w: TensorSource, parallel: Parallel) throws {
        let p = "model.embed_tokens_extend.audio_embed."
        encoder = try ConformerEncoder(config: config, weights: w, prefix: p + "encoder.", parallel: parallel)
        func lin(_ n: String, _ o: Int, _ i: Int) throws -> BiasedLinear {
            try BiasedLinear(weight: try w.tensor(p + n + ".weight", shape: [o, i]), bias: try w.tensor(p + n + ".bias", shape: [o]), name: p + n)
        }
        let D = config.attentionDim
        speechUp = try lin("up_proj_for_speech", lmHidden, D)
        speechDown = try lin("down_proj_for_speech", lmHidden, lmHidden)
        visionUp = try lin("up_proj_for_vision_speech", lmHidden, D)
        visionDown = try lin("down_proj_for_vision_speech", lmHidden, lmHidden)
        self.parallel = parallel
    }

    /// Projects encoder output [frames, D] → [frames, LM hidden].
    public func project(_ encoded: [Float], frames: Int, mode: Projection) -> [Float] {
        let (up, down) = mode == .speech ? (speechUp, speechDown) : (visionUp, visionDown)
        let H = down.outFeatures
        var u = [Float](repeating: 0, count: frames * H), o = [Float](repeating: 0, count: frames * H)
        encoded.withUnsafeBufferPointer { e in
            u.withUnsafeMutableBufferPointer { ub in
                o.withUnsafeMutableBufferPointer { ob in
                    guard let ep = e.baseAddress, let up_ = ub.baseAddress, let op = ob.baseAddress else { return }
                    up(ep, rows: frames, into: up_, parallel: parallel)
                    Kernels.activate(.gelu, up_, count: frames * H, parallel: parallel)
                    down(up_, rows: frames, into: op, parallel: parallel)
                }
            }
        }
        return o
    }

    /// Features [frames, 80] → projected audio embeddings [⌈frames/8⌉, LM hidden].
    public func embed(features: [Float], frames: Int, mode: Projection) throws -> [Float] {
        let encoded = try encoder.encode(features, frames: frames)
        return project(encoded, frames: encoder.outputFrames(frames), mode: mode)
    }
}
