import Foundation
import PhiKit
import XCTest

/// The engine's continuous batching: every request's output equals running it alone, whoever shares its steps.
final class BatchedEngineTests: XCTestCase {
    func load(_ name: String = "phi4mm-tiny") throws -> LoadedModel {
        try ModelLoader.load(path: BatchedForwardTests.fixtures.appendingPathComponent(name).path, threads: 2)
    }

    func tokens(_ stream: AsyncThrowingStream<EngineEvent, Error>, cancelAfter: Int? = nil) async throws -> [Int] {
        var ids: [Int] = []
        for try await e in stream {
            if case .token(let t) = e { ids.append(t.id) }
            if case .finished(let r, _) = e { XCTAssertEqual(r.generatedTokens, ids) }
            if let n = cancelAfter, ids.count >= n { break }
        }
        return ids
    }

    func prompts(_ m: LoadedModel) throws -> [[Int]] {
        try ["a", "a somewhat longer question about batching", "third one, of middling length", "4"].map {
            try m.promptBuilder.build([.user($0)]).tokens
        }
    }

    /// Mixed prompt lengths and mixed sampling settings (greedy, seeded sampling, penalties, drafting). A request
    /// drafts only while it decodes alone, and a drafting request draws other random numbers than a plain one
    /// (same distribution, another sample: SpeculativeDecodingTests), so the seeded samples decode plainly both
    /// ways; the greedy ones keep drafting, whose output is token-for-token the plain one.
    func options(_ i: Int) -> GenerationOptions {
        var o = GenerationOptions(maxTokens: 24 + 5 * i, stopTokenIDs: [])
        switch i % 4 {
        case 1: o.sampling = SamplingParameters(temperature: 0.8, topK: 20, seed: 42); o.draft = .none
        case 2: o.sampling = SamplingParameters(repetitionPenalty: 1.3); o.draft = .lookup
        case 3: o.sampling = SamplingParameters(temperature: 1.1, topP: 0.9, seed: 7); o.logprobs = true; o.draft = .none
        default: break
        }
        return o
    }

    func testConcurrentRequestsEqualRunningAlone() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let ps = try prompts(m)
        let expected = try ps.indices.map { try g.generate(prompt: ps[$0], options: options($0)).generatedTokens }
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 4, prefillChunk: 7, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        let streams = try ps.indices.map { try engine.submit(EngineRequest(prompt: ps[$0], options: options($0))) }
        var got: [[Int]] = []
        for s in streams { got.append(try await tokens(s)) }
        XCTAssertEqual(got, expected)
        XCTAssertGreaterThanOrEqual(engine.stats.largestBatch, 3, "the decode steps were batched")
    }

    func testRequestsJoiningAndLeavingMidBatch() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let ps = try prompts(m)
        var long = options(0)
        long.maxTokens = 90
        let expectedLong = try g.generate(prompt: ps[0], options: long).generatedTokens
        let expected = try (1..<4).map { try g.generate(prompt: ps[$0], options: options($0)).generatedTokens }
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 3, prefillChunk: 5, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        let first = try engine.submit(EngineRequest(prompt: ps[0], options: long))
        var it = first.makeAsyncIterator()
        var head: [Int] = []
        while head.count < 5, let e = try await it.next() { if case .token(let t) = e { head.append(t.id) } }
        // Three join while the first decodes; only two slots are free, so the third waits for one to leave.
        let others = try (1..<4).map { try engine.submit(EngineRequest(prompt: ps[$0], options: options($0))) }
        var got: [[Int]] = []
        for s in others { got.append(try await tokens(s)) }
        while let e = try await it.next() { if case .token(let t) = e { head.append(t.id) } }
        XCTAssertEqual(got, expected)
        XCTAssertEqual(head, expectedLong)
        XCTAssertGreaterThanOrEqual(engine.stats.largestBatch, 2)
    }

    func testCancellationMidBatchLeavesTheOthersExact() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let ps = try prompts(m)
        let expected = try [1, 2].map { try g.generate(prompt: ps[$0], options: options($0)).generatedTokens }
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 3, prefillChunk: 6, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        var doomedOptions = options(0)
        doomedOptions.maxTokens = 200
        let doomed = try engine.submit(EngineRequest(prompt: ps[0], options: doomedOptions))
        let a = try engine.submit(EngineRequest(prompt: ps[1], options: options(1)))
        let b = try engine.submit(EngineRequest(prompt: ps[2], options: options(2)))
        let cut = try await tokens(doomed, cancelAfter: 4)  // leaving the loop cancels the request
        XCTAssertEqual(cut.count, 4)
        let ra = try await tokens(a), rb = try await tokens(b)
        XCTAssertEqual([ra, rb], expected)
        for _ in 0..<200 where engine.stats.running > 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(engine.stats.running, 0)
    }
}
