import Foundation
import PhiKit
import XCTest

/// The engine that serves many requests: same tokens as the plain generator, prefix reuse, fairness, cancellation.
final class InferenceEngineTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("PhiModelsTests/Fixtures")

    func load(_ name: String = "phi4mini-tiny") throws -> LoadedModel {
        try ModelLoader.load(path: Self.fixtures.appendingPathComponent(name).path, threads: 2)
    }

    /// Collects a request's events: (started cached tokens, streamed tokens, final result).
    func collect(_ stream: AsyncThrowingStream<EngineEvent, Error>) async throws -> (Int, [Int], GenerationResult) {
        var cached = -1
        var ids: [Int] = []
        for try await e in stream {
            switch e {
            case .started(_, let c): cached = c
            case .token(let t): ids.append(t.id)
            case .finished(let r, let c):
                XCTAssertEqual(c, cached)
                return (cached, ids, r)
            }
        }
        throw XCTSkip("stream ended without a result")
    }

    func testKVCacheCopyHoldsThePrefixAndContinuesIdentically() throws {
        let m = try load()
        let g = m.makeGenerator()
        let prompt = (try m.prompt("A shared system prompt and a question").tokens)
        let opts = GenerationOptions(maxTokens: 8, stopTokenIDs: [])
        let cold = try g.generate(prompt: prompt, options: opts)
        let cache = m.model.makeCache(maxLength: 64)
        _ = try m.model.forward(Array(prompt.prefix(10)), cache: cache)
        let copy = cache.copy(prefix: 6, maxLength: 128)
        XCTAssertEqual(copy.count, 6)
        XCTAssertEqual(copy.tokens, Array(prompt.prefix(6)))
        XCTAssertEqual(copy.maxLength, 128)
        let warm = try g.generate(prompt: prompt, options: opts, cache: copy)
        XCTAssertEqual(warm.generatedTokens, cold.generatedTokens)
        XCTAssertEqual(cache.count, 10, "the source is untouched")
    }

    func testEngineMatchesGeneratorAndReusesPrefix() async throws {
        let m = try load()
        let engine = InferenceEngine(model: m, configuration: .init(maxQueued: 8, maxActive: 3, prefillChunk: 5))
        defer { engine.shutdown() }
        let g = m.makeGenerator()
        let prompts = try ["first question", "second, longer question about something", "third"].map {
            (try m.promptBuilder.build([.system("You are a helpful assistant with a long shared system prompt."), .user($0)]).tokens)
        }
        let opts = GenerationOptions(maxTokens: 10, stopTokenIDs: [])
        let expected = try prompts.map { try g.generate(prompt: $0, options: opts).generatedTokens }
        // Concurrent: interleaved steps and chunked prefill give the same tokens as one at a time.
        let streams = try prompts.map { try engine.submit(EngineRequest(prompt: $0, options: opts)) }
        var results: [[Int]] = []
        for s in streams {
            let (_, ids, r) = try await collect(s)
            XCTAssertEqual(ids, r.generatedTokens)
            results.append(r.generatedTokens)
        }
        XCTAssertEqual(results, expected)
        // Again, one by one: the shared system prompt (and the whole first prompt) come from the prefix cache.
        let (cached, _, again) = try await collect(try engine.submit(EngineRequest(prompt: prompts[0], options: opts)))
        XCTAssertEqual(again.generatedTokens, expected[0])
        XCTAssertGreaterThanOrEqual(cached, prompts[0].count - 1)
        for _ in 0..<200 where engine.stats.running > 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        let stats = engine.stats
        XCTAssertGreaterThan(stats.prefixCacheHits, 0)
        XCTAssertGreaterThan(stats.prefixCacheBytes, 0)
        XCTAssertEqual(stats.running, 0)
    }

    func testCancellingOneRequestLeavesTheOthersIntact() async throws {
        let m = try load()
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 2, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        let p = (try m.prompt("hello there").tokens)
        let long = GenerationOptions(maxTokens: 400, stopTokenIDs: [])
        let short = GenerationOptions(maxTokens: 12, stopTokenIDs: [])
        let expected = try m.makeGenerator().generate(prompt: p, options: short).generatedTokens
        let doomed = try engine.submit(EngineRequest(prompt: p, options: long))
        let other = try engine.submit(EngineRequest(prompt: p, options: short))
        var n = 0
        for try await e in doomed { if case .token = e { n += 1; if n == 3 { break } } }  // leaving the loop cancels
        let (_, _, r) = try await collect(other)
        XCTAssertEqual(r.generatedTokens, expected)
        // The cancelled sequence leaves its slot: the engine drains to idle.
        for _ in 0..<200 where engine.stats.running > 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(engine.stats.running, 0)
        XCTAssertEqual(engine.stats.queued, 0)
    }

    func testQueueLimitAndErrorsBeforeAnyToken() async throws {
        let m = try load()
        let engine = InferenceEngine(model: m, configuration: .init(maxQueued: 1, maxActive: 1, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        let p = (try m.prompt("x").tokens)
        let opts = GenerationOptions(maxTokens: 5, stopTokenIDs: [])
        // The first request's prompt building holds the worker, so the queue fills deterministically.
        let gate = DispatchSemaphore(value: 0)
        let a = try engine.submit(EngineRequest(options: opts) {
            gate.wait()
            return try m.promptBuilder.build([.user("x")])
        })
        for _ in 0..<200 where engine.stats.running == 0 { try await Task.sleep(nanoseconds: 5_000_000) }
        let b = try engine.submit(EngineRequest(prompt: p, options: opts))
        XCTAssertThrowsError(try engine.submit(EngineRequest(prompt: p, options: opts))) {
            XCTAssertEqual($0 as? EngineError, .queueFull(limit: 1))
        }
        gate.signal()
        let (_, _, ra) = try await collect(a)
        let (_, _, rb) = try await collect(b)
        XCTAssertEqual(ra.generatedTokens, rb.generatedTokens)
        // An invalid request fails before any token, with the generator's error.
        let bad = try engine.submit(EngineRequest(prompt: [], options: opts))
        do {
            for try await _ in bad { XCTFail("no event expected") }
            XCTFail("expected an error")
        } catch GenerationError.emptyPrompt {}
    }

    func testForcedOutputAndLogitBias() async throws {
        let m = try load()
        let engine = InferenceEngine(model: m)
        defer { engine.shutdown() }
        let p = (try m.prompt("anything").tokens)
        let forced = m.tokenizer.encode("Hello, world!")
        var o = GenerationOptions(maxTokens: 50)
        o.forcedOutput = forced + [Array(m.eosTokenIDs).min() ?? 0]
        let (_, _, r) = try await collect(try engine.submit(EngineRequest(prompt: p, options: o)))
        XCTAssertEqual(r.text, "Hello, world!")
        XCTAssertEqual(r.finishReason, .stop)
        var b = GenerationOptions(maxTokens: 3, stopTokenIDs: [])
        b.logitBias = [forced[0]: 100]
        b.logprobs = true
        b.topLogprobs = 2
        var tops: [[TokenLogprob]] = []
        for try await e in try engine.submit(EngineRequest(prompt: p, options: b)) {
            if case .token(let t) = e { XCTAssertEqual(t.id, forced[0]); tops.append(t.topLogprobs) }
        }
        XCTAssertEqual(tops.count, 3)
        XCTAssertEqual(tops.first?.count, 2)
        if let t = tops.first { XCTAssertGreaterThanOrEqual(t[0].logprob, t[1].logprob) }
    }
}
