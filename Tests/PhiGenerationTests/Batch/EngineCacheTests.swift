import Foundation
import PhiKit
@testable import PhiGeneration
import XCTest

/// The engine's prefix cache under a small budget, its spill to disk (and a corrupt spill file), memory-budget
/// admission and the fair sharing of the prefill budget: each checked against running a request alone.
final class EngineCacheTests: XCTestCase {
    func load(_ name: String = "phi4mini-tiny") throws -> LoadedModel {
        try ModelLoader.load(path: BatchedForwardTests.fixtures.appendingPathComponent(name).path, threads: 2)
    }

    /// (cached tokens, generated tokens) of one request.
    func run(_ engine: InferenceEngine, _ prompt: [Int], _ options: GenerationOptions) async throws -> (cached: Int, tokens: [Int]) {
        for try await e in try engine.submit(EngineRequest(prompt: prompt, options: options)) {
            if case .finished(let r, let cached) = e {
                // The engine files the finished state away just after the client hears the end.
                for _ in 0..<500 where engine.stats.running > 0 { try await Task.sleep(nanoseconds: 2_000_000) }
                return (cached, r.generatedTokens)
            }
        }
        throw XCTSkip("stream ended without a result")
    }

    func prompts(_ m: LoadedModel, count: Int, length: Int) -> [[Int]] {
        (0..<count).map { s in (0..<length).map { (($0 + 1) * 7919 + (s + 1) * 104_729) % (m.model.vocabularySize - 10) + 1 } }
    }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phikit-spill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func files(_ dir: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).filter { $0.pathExtension == "phikv" }
    }

    func testEvictionUnderASmallBudgetKeepsTheMostRecentAndStaysExact() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let opts = GenerationOptions(maxTokens: 6, stopTokenIDs: [])
        let ps = prompts(m, count: 4, length: 20)
        // One finished state: 20 + 6 positions, held in whole key blocks of 16 (32 positions).
        let perEntry = m.model.makeCache(maxLength: 1).bytesPerPosition * 32
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 1, prefixCacheBytes: perEntry * 2))
        defer { engine.shutdown() }
        for p in ps {
            let r = try await run(engine, p, opts)
            XCTAssertEqual(r.cached, 0)
            XCTAssertLessThanOrEqual(engine.stats.prefixCacheBytes, perEntry * 2, "the budget holds")
        }
        XCTAssertEqual(engine.stats.prefixCacheEntries, 2)
        // The two most recent are cached, the oldest were evicted (recomputed, same output).
        let recent = try await run(engine, ps[3], opts)
        XCTAssertGreaterThanOrEqual(recent.cached, 19)
        XCTAssertEqual(recent.tokens, try g.generate(prompt: ps[3], options: opts).generatedTokens)
        let evicted = try await run(engine, ps[0], opts)
        XCTAssertEqual(evicted.cached, 0)
        XCTAssertEqual(evicted.tokens, try g.generate(prompt: ps[0], options: opts).generatedTokens)
        XCTAssertLessThanOrEqual(engine.stats.prefixCacheBytes, perEntry * 2)
    }

    func testSpillRoundTripGivesTheColdOutput() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let opts = GenerationOptions(maxTokens: 8, stopTokenIDs: [])
        let ps = prompts(m, count: 3, length: 24)
        let cold = try ps.map { try g.generate(prompt: $0, options: opts).generatedTokens }
        let dir = try temporaryDirectory()
        let one = m.model.makeCache(maxLength: 1).bytesPerPosition * 32
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 1, prefixCacheBytes: one, spillDirectory: dir.path))
        for p in ps { _ = try await run(engine, p, opts) }
        // Only the last fits in memory; the first two went to disk.
        XCTAssertEqual(engine.stats.prefixCacheEntries, 1)
        XCTAssertEqual(engine.stats.spilledEntries, 2)
        XCTAssertEqual(try files(dir).count, 2)
        let warm = try await run(engine, ps[0], opts)
        XCTAssertGreaterThanOrEqual(warm.cached, 23, "the prefix came back from disk")
        XCTAssertEqual(engine.stats.prefixCacheDiskHits, 1)
        XCTAssertEqual(warm.tokens, cold[0])
        // A longer prompt extending a spilled one continues from the disk state.
        let longer = ps[1] + [5, 6, 7]
        let ext = try await run(engine, longer, opts)
        XCTAssertGreaterThanOrEqual(ext.cached, 24)
        XCTAssertEqual(ext.tokens, try g.generate(prompt: longer, options: opts).generatedTokens)
        engine.shutdown()
        // The engine's files go with it.
        for _ in 0..<100 where (try files(dir)).count > 0 { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertEqual(try files(dir).count, 0)
    }

    func testCorruptSpillFileIsAMissNotAnError() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let opts = GenerationOptions(maxTokens: 8, stopTokenIDs: [])
        let ps = prompts(m, count: 2, length: 24)
        let cold = try g.generate(prompt: ps[0], options: opts).generatedTokens
        let dir = try temporaryDirectory()
        let one = m.model.makeCache(maxLength: 1).bytesPerPosition * 32
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 1, prefixCacheBytes: one, spillDirectory: dir.path))
        defer { engine.shutdown() }
        for p in ps { _ = try await run(engine, p, opts) }
        let spilled = try XCTUnwrap(try files(dir).first)
        var bytes = try Data(contentsOf: spilled)
        bytes[bytes.count / 2] ^= 0x5A  // one flipped byte inside the K/V data
        try bytes.write(to: spilled)
        let r = try await run(engine, ps[0], opts)
        XCTAssertEqual(r.cached, 0, "a corrupt file is a miss")
        XCTAssertEqual(r.tokens, cold)
        XCTAssertEqual(engine.stats.prefixCacheDiskHits, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: spilled.path), "the corrupt file is removed")
        // The engine goes on serving: the other prompt's state is still in memory.
        let r2 = try await run(engine, ps[1], opts)
        XCTAssertGreaterThan(r2.cached, 0)
    }

    func testSpillFileFormatRefusesDamage() throws {
        let m = try load()
        let cache = m.model.makeCache(maxLength: 32)
        _ = try m.model.forward(prompts(m, count: 1, length: 12)[0], cache: cache)
        func valid(_ d: Data) -> Bool { (try? PrefixSpillFile.decode(d)) != nil }
        let good = PrefixSpillFile.encode(cache: cache, mediaKey: "k", conditioning: nil, adapterCode: 0)
        XCTAssertTrue(valid(good))
        let d = try PrefixSpillFile.decode(good)
        XCTAssertEqual(d.header.tokens, cache.tokens)
        XCTAssertEqual(d.header.mediaKey, "k")
        // Restored keys and values are the very same floats.
        let back = try PrefixSpillFile.restore(good, d, length: 12, maxLength: 32)
        for l in 0..<cache.layers {
            for h in 0..<cache.kvHeads {
                for d in 0..<cache.headDim {
                    for t in 0..<12 { XCTAssertEqual(back.key(layer: l, head: h, dim: d, position: t), cache.key(layer: l, head: h, dim: d, position: t)) }
                }
            }
            for i in 0..<(12 * cache.headDim) { XCTAssertEqual(back.values(layer: l)[i], cache.values(layer: l)[i]) }
        }
        XCTAssertFalse(valid(good.prefix(good.count - 1)), "truncated")
        XCTAssertFalse(valid(good + [0]), "trailing byte")
        XCTAssertFalse(valid(Data()), "empty")
        var huge = good
        for i in 28..<36 { huge[i] = 0xFF }  // a token count near 2^64
        XCTAssertFalse(valid(huge), "absurd sizes")
        for i in stride(from: 0, to: good.count, by: max(1, good.count / 97)) {
            var bad = good
            bad[i] ^= 0x01
            XCTAssertFalse(valid(bad), "byte \(i) flipped")
        }
    }

    func testAdmissionRefusesWhatCanNeverFitAndQueuesTheRest() async throws {
        let m = try load()
        let g = m.makeGenerator()
        let perToken = m.model.makeCache(maxLength: 1).bytesPerPosition
        let ps = prompts(m, count: 3, length: 10)
        let opts = GenerationOptions(maxTokens: 30, stopTokenIDs: [])
        let expected = try ps.map { try g.generate(prompt: $0, options: opts).generatedTokens }
        // What one request reserves: its KV cache at 40 positions and its scratch.
        let one = EngineMemory(model: m.model, budget: 1 << 30, prefillChunk: 256, maxActive: 3)
            .reservation(promptTokens: 10, maxTokens: 30, contextLength: m.model.contextLength)
        XCTAssertGreaterThanOrEqual(one, 40 * perToken)
        // A budget for the step's scratch and one request at a time (not two).
        let scratch = EngineMemory(model: m.model, budget: 1 << 30, prefillChunk: 256, maxActive: 3).stepScratch
        let budget = scratch + one + 10 * perToken
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 3, prefixCacheBytes: 0, memoryBudget: budget))
        defer { engine.shutdown() }
        var big = opts
        big.maxTokens = 60  // still within the 64-token context, but twice the memory
        do {
            for try await _ in try engine.submit(EngineRequest(prompt: ps[0], options: big)) { XCTFail("no event expected"); break }
            XCTFail("expected a refusal")
        } catch let e as EngineError {
            guard case .exceedsMemoryBudget(let need, let available) = e else { return XCTFail("\(e)") }
            XCTAssertGreaterThan(need, available)
            XCTAssertTrue(e.description.contains("max_tokens"), e.description)
        }
        // Three that each fit alone: they run one after the other, each exact, never over budget.
        let streams = try ps.map { try engine.submit(EngineRequest(prompt: $0, options: opts)) }
        let watcher = Task {
            var peak = 0, waited = false
            while !Task.isCancelled {
                let s = engine.stats
                peak = max(peak, s.reservedBytes)
                waited = waited || s.waitingForMemory
                try? await Task.sleep(nanoseconds: 1_000_000)
            }
            return (peak, waited)
        }
        var got: [[Int]] = []
        for s in streams {
            for try await e in s { if case .finished(let r, _) = e { got.append(r.generatedTokens) } }
        }
        watcher.cancel()
        let (peak, waited) = await watcher.value
        XCTAssertEqual(got, expected)
        XCTAssertEqual(peak, one, "one request at a time within the budget")
        XCTAssertTrue(waited, "the others waited for memory")
        XCTAssertEqual(engine.stats.largestBatch, 0, "never two sequences in one step")
    }

    /// A short prompt that arrives while a long one is being read gets its share of every step: its first
    /// token comes long before the long prompt's.
    func testShortPromptIsNotStarvedByALongPrefill() async throws {
        let m = try load("phi4mm-tiny")
        let g = m.makeGenerator()
        let long = prompts(m, count: 1, length: 400)[0]
        let short = prompts(m, count: 2, length: 6)[1]
        let opts = GenerationOptions(maxTokens: 4, stopTokenIDs: [])
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 2, prefillChunk: 8, prefixCacheBytes: 0))
        defer { engine.shutdown() }
        let order = OrderLog()
        @Sendable func drain(_ name: String, _ s: AsyncThrowingStream<EngineEvent, Error>) async throws -> [Int] {
            var ids: [Int] = []
            for try await e in s {
                if case .token = e, ids.isEmpty { order.add(name); ids = [-1] }
                if case .finished(let r, _) = e { ids = r.generatedTokens }
            }
            return ids
        }
        let a = try engine.submit(EngineRequest(prompt: long, options: opts))
        let b = try engine.submit(EngineRequest(prompt: short, options: opts))
        async let la = drain("long", a)
        async let sb = drain("short", b)
        let (ra, rb) = try await (la, sb)
        XCTAssertEqual(order.names, ["short", "long"])
        XCTAssertEqual(ra, try g.generate(prompt: long, options: opts).generatedTokens)
        XCTAssertEqual(rb, try g.generate(prompt: short, options: opts).generatedTokens)
    }

    /// A 2,000-token cached prefix: the second request reads only its new tail and generates what a cold run does.
    func testLongCachedPrefixHitIsExact() async throws {
        let m = try load("phi4mm-tiny")
        let g = m.makeGenerator()
        let system = prompts(m, count: 1, length: 2000)[0]
        let first = system + [11, 12, 13], second = system + [21, 22, 23, 24]
        let opts = GenerationOptions(maxTokens: 8, stopTokenIDs: [])
        let engine = InferenceEngine(model: m, configuration: .init(maxActive: 2, prefillChunk: 256))
        defer { engine.shutdown() }
        _ = try await run(engine, first, opts)
        let warm = try await run(engine, second, opts)
        XCTAssertEqual(warm.cached, 2000)
        XCTAssertEqual(warm.tokens, try g.generate(prompt: second, options: opts).generatedTokens)
    }
}

final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var names: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
