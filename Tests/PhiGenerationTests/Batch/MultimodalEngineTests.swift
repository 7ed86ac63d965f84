import Foundation
import PhiKit
import XCTest

/// Phi-4-multimodal through the engine: text, image (vision LoRA) and audio (speech LoRA) requests decoded in
/// the same batched steps on shared base weights, each giving what it gives alone; their prefix states are
/// reused from memory and from disk only under the same media.
final class MultimodalEngineTests: XCTestCase {
    static let media = BatchedForwardTests.fixtures.appendingPathComponent("phi4mm-media")

    struct Case {
        var name: String
        var mediaKey: String?
        var prepare: @Sendable () throws -> PreparedPrompt
    }

    func cases(_ m: LoadedModel) -> [Case] {
        let image = ImageSource.file(Self.media.appendingPathComponent("image_A.png"))
        let other = ImageSource.file(Self.media.appendingPathComponent("image_B.png"))
        let audio = AudioSource.file(Self.media.appendingPathComponent("audio_short.wav"))
        let text = { @Sendable () throws -> PreparedPrompt in try m.prompt("What is the weather like in Paris today?") }
        return [
            Case(name: "vision", mediaKey: "A") { try m.prompt("<|image_1|>What is shown?", images: [image]) },
            Case(name: "text", mediaKey: nil, prepare: text),
            Case(name: "speech", mediaKey: "wav") { try m.prompt("<|audio_1|>Transcribe the audio to text.", audios: [audio]) },
            Case(name: "vision B", mediaKey: "B") { try m.prompt("<|image_1|>Describe it.", images: [other]) },
            Case(name: "text 2", mediaKey: nil) { try m.prompt("Name three colours.") },
        ]
    }

    func options(_ i: Int) -> GenerationOptions {
        var o = GenerationOptions(maxTokens: 12 + 3 * i, stopTokenIDs: [])
        if i == 3 {
            o.sampling = SamplingParameters(temperature: 0.7, topK: 30, seed: 3)
            // A drafting request draws other random numbers than a plain one (same distribution, another sample:
            // SpeculativeDecodingTests), and a request drafts only while it decodes alone; so for the seeded
            // sample to be comparable, it decodes plainly both ways.
            o.draft = .none
        }
        return o
    }

    func alone(_ m: LoadedModel, _ c: Case, _ o: GenerationOptions) throws -> [Int] {
        let p = try c.prepare()
        return try m.makeGenerator().generate(prompt: p.tokens, options: o, conditioning: p.conditioning).generatedTokens
    }

    func result(_ s: AsyncThrowingStream<EngineEvent, Error>) async throws -> (cached: Int, tokens: [Int]) {
        for try await e in s { if case .finished(let r, let c) = e { return (c, r.generatedTokens) } }
        throw XCTSkip("stream ended without a result")
    }

    func testMixedTextVisionSpeechRequestsBatchedEqualAlone() async throws {
        let m = try ModelLoader.load(path: BatchedForwardTests.fixtures.appendingPathComponent("phi4mm-tiny").path, threads: 2)
        let cs = cases(m)
        // The adapters differ: vision, speech and none all occur.
        let adapters = try cs.map { try $0.prepare().conditioning?.adapter.map(ObjectIdentifier.init) }
        XCTAssertEqual(Set(adapters).count, 3)
        let expected = try cs.indices.map { try alone(m, cs[$0], options($0)) }
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 5, prefillChunk: 16, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        let streams = try cs.indices.map {
            try engine.submit(EngineRequest(options: options($0), mediaKey: cs[$0].mediaKey, prepare: cs[$0].prepare))
        }
        var got: [[Int]] = []
        for s in streams { got.append(try await result(s).tokens) }
        XCTAssertEqual(got, expected)
        XCTAssertGreaterThanOrEqual(engine.stats.largestBatch, 3, "the requests shared steps")
    }

    func testMultimodalPrefixReuseFromMemoryAndDisk() async throws {
        let m = try ModelLoader.load(path: BatchedForwardTests.fixtures.appendingPathComponent("phi4mm-tiny").path, threads: 2)
        let cs = cases(m)
        let vision = cs[0], speech = cs[2]
        let o = GenerationOptions(maxTokens: 10, stopTokenIDs: [])
        let expectedVision = try alone(m, vision, o), expectedSpeech = try alone(m, speech, o)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phikit-mm-spill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Memory for one state: the second request pushes the first to disk.
        let visionTokens = try vision.prepare().tokens.count, speechTokens = try speech.prepare().tokens.count
        let perToken = m.model.makeCache(maxLength: 1).bytesPerPosition
        let engine = InferenceEngine(model: m, configuration: .init(
            maxActive: 1, prefixCacheBytes: perToken * (max(visionTokens, speechTokens) + 10), spillDirectory: dir.path))
        defer { engine.shutdown() }
        func submit(_ c: Case, key: String? = nil) throws -> AsyncThrowingStream<EngineEvent, Error> {
            try engine.submit(EngineRequest(options: o, mediaKey: key ?? c.mediaKey, prepare: c.prepare))
        }
        let first = try await result(try submit(vision))
        XCTAssertEqual(first.tokens, expectedVision)
        let second = try await result(try submit(speech))
        XCTAssertEqual(second.tokens, expectedSpeech)
        for _ in 0..<500 where engine.stats.running > 0 { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertEqual(engine.stats.spilledEntries, 1, "the vision state went to disk")
        let again = try await result(try submit(vision))
        XCTAssertGreaterThanOrEqual(again.cached, visionTokens - 1, "read back from disk")
        XCTAssertEqual(engine.stats.prefixCacheDiskHits, 1)
        XCTAssertEqual(again.tokens, expectedVision)
        // In memory now, reused again; under another media key nothing is reused past the placeholders.
        let speechAgain = try await result(try submit(speech))
        XCTAssertEqual(speechAgain.tokens, expectedSpeech)
        let otherKey = try await result(try submit(vision, key: "not A"))
        XCTAssertEqual(otherKey.cached, 0)
        XCTAssertEqual(otherKey.tokens, expectedVision)
    }
}
