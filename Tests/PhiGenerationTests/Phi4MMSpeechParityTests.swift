import Foundation
import PhiKit
import XCTest

/// The speech path against transformers (original semantics) on the tiny fixture: log-mel features,
/// conformer (subsampling, every block, chunking past 500 frames), projectors per mode, LoRA routing,
/// logits and greedy continuations for audio-only and image+audio prompts.
final class Phi4MMSpeechParityTests: XCTestCase {
    typealias P = Phi4MMParityTests
    static let featureTolerance: Float = 1e-3   // log-mel values (the extractor's FFT runs in another order)
    static let encoderTolerance: Float = 1e-4

    func testFeaturesAndEncoderTaps() throws {
        let ref = try P.reference()
        let model = try ModelLoader.load(path: P.original.path, threads: 2)
        let mm = try XCTUnwrap(model.multimodal)
        let clip = try AudioDecoder.decode(contentsOf: P.media.appendingPathComponent("audio_short.wav"))
        let (features, frames) = try Phi4MMAudioFeatures.extract(clip: clip)
        XCTAssertEqual(frames, 198)
        let refFeatures = try ref.tensor("audio_short.features")
        let df = P.maxAbs(features[...], refFeatures[...])
        XCTAssertLessThanOrEqual(df, Self.featureTolerance, "log-mel max-abs \(df)")

        // Encoder on the reference features, tap by tap.
        var taps: [String: [Float]] = [:]
        let out = try mm.audio.encoder.encode(refFeatures, frames: 198) { name, index, values in
            taps[index >= 0 ? "\(name).\(index)" : name] = Array(values)
        }
        for (key, tap) in [("audio_short.encoder.embed", "subsampled"), ("audio_short.encoder.block.0", "block.0"),
                           ("audio_short.encoder.block.1", "block.1")] {
            let d = P.maxAbs(try XCTUnwrap(taps[tap])[...], try ref.tensor(key)[...])
            XCTAssertLessThanOrEqual(d, Self.encoderTolerance, "\(key) max-abs \(d)")
        }
        XCTAssertLessThanOrEqual(P.maxAbs(out[...], try ref.tensor("audio_short.encoder_out")[...]), Self.encoderTolerance)
        let projected = mm.audio.project(out, frames: 25, mode: .speech)
        let dp = P.maxAbs(projected[...], try ref.tensor("audio_short.audio_features")[...])
        XCTAssertLessThanOrEqual(dp, Self.encoderTolerance, "speech projector max-abs \(dp)")
        let vision = mm.audio.project(out, frames: 25, mode: .visionSpeech)
        XCTAssertGreaterThan(P.maxAbs(vision[...], projected[...]), 1e-3, "the two projectors must differ")
    }

    func testLongAudioRunsInIndependentChunks() throws {
        let ref = try P.reference()
        let model = try ModelLoader.load(path: P.original.path, threads: 2)
        let mm = try XCTUnwrap(model.multimodal)
        let store = try WeightStore(files: [P.media.appendingPathComponent("audio_long.features.f16.safetensors")])
        let features = try store.tensor("features").toFloatArray()
        let out = try mm.audio.encoder.encode(features, frames: 4098)
        XCTAssertEqual(out.count, 513 * 32)
        let d = P.maxAbs(out[...], try ref.tensor("audio_long.encoder_out")[...])
        XCTAssertLessThanOrEqual(d, Self.encoderTolerance, "two-chunk encoder max-abs \(d)")
    }

    func testSpeechPromptUsesSpeechLoRAAndMatches() throws {
        let ref = try P.reference()
        for dir in [P.original, P.native] {
            let model = try ModelLoader.load(path: dir.path, threads: 2)
            let audio = AudioSource.file(P.media.appendingPathComponent("audio_short.wav"))
            let prepared = try model.prompt("<|audio_1|>Transcribe the audio to text.", audios: [audio])
            XCTAssertEqual(prepared.audioTokenCounts, [25])
            XCTAssertTrue(prepared.conditioning?.adapter === model.multimodal?.speechLoRA)
            try P.check(model, "audio_short", prepared: prepared, ref: ref)
        }
    }

    func testImageAndAudioUseVisionLoRAAndVisionProjector() throws {
        let ref = try P.reference()
        let model = try ModelLoader.load(path: P.original.path, threads: 2)
        let prepared = try model.prompt("",
            images: [.file(P.media.appendingPathComponent("image_A.png"))],
            audios: [.file(P.media.appendingPathComponent("audio_short.wav"))])
        XCTAssertTrue(prepared.conditioning?.adapter === model.multimodal?.visionLoRA)
        try P.check(model, "image_audio", prepared: prepared, ref: ref)
    }

    func testTranscribeCommandAndErrors() throws {
        let wav = P.media.appendingPathComponent("audio_short.wav").path
        let ref = try P.reference()
        let expected = try XCTUnwrap(ref.info("audio_short")["generated_text"] as? String)
        let model = try ModelLoader.load(path: P.original.path, threads: 2)
        var options = TranscriptionOptions()
        options.maxTokensPerChunk = 8
        let t = try Transcriber(model: model).transcribe(try AudioDecoder.decode(contentsOf: URL(fileURLWithPath: wav)), options: options)
        XCTAssertEqual(t.segments.count, 1)
        XCTAssertEqual(t.segments.first?.tokens, try ref.ints("audio_short", "generated_ids"))
        XCTAssertEqual(t.text, expected.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(t.duration, 2.0, accuracy: 1e-9)
        // A text model cannot transcribe; audio placeholders without audio are an error.
        let text = try ModelLoader.load(path: P.fixtures.appendingPathComponent("phi4mini-tiny").path)
        XCTAssertThrowsError(try Transcriber(model: text))
        XCTAssertThrowsError(try model.prompt("<|audio_1|>x"))
    }
}
