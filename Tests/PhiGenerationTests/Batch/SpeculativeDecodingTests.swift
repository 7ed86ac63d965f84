import Foundation
import PhiKit
import XCTest

/// Speculative decoding with prompt-lookup drafts: greedy output token for token as plain decoding, sampled
/// output from the same distribution.
final class SpeculativeDecodingTests: XCTestCase {
    func load(_ name: String, quantize: LoadQuantization = .none) throws -> LoadedModel {
        try ModelLoader.load(path: BatchedForwardTests.fixtures.appendingPathComponent(name).path, threads: 2, quantize: quantize)
    }

    /// A prompt that repeats itself, so n-gram lookups find drafts.
    func repetitive(_ m: LoadedModel, seed: Int, period: Int, count: Int) -> [Int] {
        let unit = (0..<period).map { (($0 + 3) * 7919 + seed * 104_729) % (m.model.vocabularySize - 10) + 1 }
        return (0..<count).map { unit[$0 % period] }
    }

    func testGreedyOutputIsIdenticalAndDraftsAreAccepted() throws {
        var accepted = 0
        for (name, q, maxTokens) in [("phi4mini-tiny", LoadQuantization.none, 40), ("phi4mini-tiny", .q4_0, 40),
                                      ("llama-tiny", .none, 90), ("phi4mm-tiny", .none, 120), ("phi4mini-tiny-bf16", .none, 40)] {
            let m = try load(name, quantize: q)
            let g = m.makeGenerator()
            for seed in 0..<4 {
                let prompt = repetitive(m, seed: seed, period: 3 + seed, count: 14 + 2 * seed)
                var plain = GenerationOptions(maxTokens: maxTokens, stopTokenIDs: [])
                plain.logprobs = true
                var spec = plain
                spec.draft = .lookup
                let a = try g.generate(prompt: prompt, options: plain)
                var streamed: [Int] = []
                let b = try g.generate(prompt: prompt, options: spec) { streamed.append($0.id); return true }
                XCTAssertEqual(b.generatedTokens, a.generatedTokens, "\(name) \(q) seed \(seed)")
                XCTAssertEqual(streamed, a.generatedTokens)
                XCTAssertEqual(b.text, a.text)
                XCTAssertEqual(b.finishReason, a.finishReason)
                XCTAssertEqual(b.generatedTokens.count, maxTokens)
                // Logprobs come from the verify rows; f32 and quantized rows are bit-identical at any row count.
                for (x, y) in zip(a.logprobs ?? [], b.logprobs ?? []) { XCTAssertEqual(x, y, accuracy: 1e-4) }
                XCTAssertLessThanOrEqual(b.acceptedDraftTokens, b.draftedTokens)
                accepted += b.acceptedDraftTokens
                print("\(name) \(q.dtype?.rawValue ?? "stored") seed \(seed): drafted \(b.draftedTokens), accepted \(b.acceptedDraftTokens) of \(maxTokens)")
            }
        }
        XCTAssertGreaterThan(accepted, 0, "no draft was ever accepted: the test proves nothing")
    }

    /// Drafting is on by default; a state told not to draft (a scheduler sharing the pass) decodes plainly,
    /// with the same output.
    func testDefaultDraftsAndMayDraftTurnsItOff() throws {
        XCTAssertEqual(GenerationOptions().draft, .lookup)
        let m = try load("llama-tiny")
        let g = m.makeGenerator()
        let prompt = repetitive(m, seed: 0, period: 3, count: 14)
        let options = GenerationOptions(maxTokens: 60, stopTokenIDs: [])
        let drafted = try g.generate(prompt: prompt, options: options)
        XCTAssertGreaterThan(drafted.acceptedDraftTokens, 0)
        XCTAssertGreaterThan(drafted.draftCalls, 0)
        var state = try DecodeState(generator: g, prompt: prompt, options: options)
        state.mayDraft = false
        while !state.isFinished { _ = try state.step() }
        XCTAssertEqual(state.result.draftedTokens, 0)
        XCTAssertEqual(state.result.generatedTokens, drafted.generatedTokens)
        var off = options
        off.draft = .none
        XCTAssertEqual(try g.generate(prompt: prompt, options: off).generatedTokens, drafted.generatedTokens)
    }

    /// Stops (a token id, a stop string, the token limit) inside an accepted draft end the output where plain
    /// decoding ends it.
    func testStopsInsideDraftsMatchPlainDecoding() throws {
        let m = try load("phi4mm-tiny")
        let g = m.makeGenerator()
        let prompt = repetitive(m, seed: 1, period: 4, count: 16)
        let free = try g.generate(prompt: prompt, options: GenerationOptions(maxTokens: 60, stopTokenIDs: []))
        for cut in [5, 17, 33] where cut < free.generatedTokens.count {
            for variant in 0..<3 {
                var o = GenerationOptions(maxTokens: variant == 2 ? cut : 60, stopTokenIDs: variant == 0 ? [free.generatedTokens[cut]] : [])
                if variant == 1 { o.stop = [String(free.text.prefix(free.text.count * cut / 60)).suffix(3)].map(String.init) }
                let a = try g.generate(prompt: prompt, options: o)
                o.draft = .lookup
                let b = try g.generate(prompt: prompt, options: o)
                XCTAssertEqual(b.generatedTokens, a.generatedTokens, "cut \(cut) variant \(variant)")
                XCTAssertEqual(b.text, a.text)
                XCTAssertEqual(b.finishReason, a.finishReason)
            }
        }
    }

    /// The verification step draws exactly from the sampler's distribution, whatever the draft: χ² against
    /// the exact probabilities for a likely draft, an unlikely one and one outside the candidates.
    func testVerifySamplesTheSamplersDistribution() throws {
        let m = try load("phi4mini-tiny")
        let full = try m.model.forward(repetitive(m, seed: 2, period: 5, count: 9), cache: m.model.makeCache(maxLength: 16))
        // The model's 40 largest logits as a small vocabulary (the sampler's sort dominates a debug build's time).
        let logits = full.indices.sorted { full[$0] > full[$1] }.prefix(40).map { full[$0] }.reversed().map { $0 }
        let params = SamplingParameters(temperature: 2.5, topK: 6, seed: 7)
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        // The exact distribution: softmax of the top 6 at temperature 2.5.
        let top = Array(order.prefix(6)), mx = logits[top[0]]
        let w = top.map { exp(Double((logits[$0] - mx) / 2.5)) }, z = w.reduce(0, +)
        let exact = Dictionary(uniqueKeysWithValues: zip(top, w.map { $0 / z }))
        for draft in [top[0], top[3], order[20]] {
            var sampler = Sampler(params)
            var counts: [Int: Int] = [:]
            var acceptedCount = 0, inconsistent = 0
            let n = 12_000
            for _ in 0..<n {
                let r = sampler.verify(draft: draft, logits: logits, context: [], generated: [])
                counts[r.id, default: 0] += 1
                if r.accepted { acceptedCount += 1 }
                if r.accepted != (r.id == draft) { inconsistent += 1 }
            }
            XCTAssertEqual(inconsistent, 0, "accepted exactly when the draft is returned")
            XCTAssertEqual(Set(counts.keys).subtracting(top), [], "only candidates are drawn")
            var chi = 0.0
            for id in top {
                let e = Double(n) * (exact[id] ?? 0)
                chi += pow(Double(counts[id, default: 0]) - e, 2) / e
            }
            XCTAssertLessThan(chi, chiSquareCritical(df: top.count - 1), "draft \(draft): χ² \(chi)")
            let pd = exact[draft] ?? 0
            XCTAssertEqual(Double(acceptedCount) / Double(n), pd, accuracy: 4 * (pd * (1 - pd) / Double(n)).squareRoot() + 1e-9)
        }
    }

    /// End to end: sampled generations with and without drafting give the same distribution of tokens
    /// (two-sample χ² per position, over many seeds), and drafts were accepted along the way.
    func testSampledOutputHasTheSameDistribution() throws {
        let m = try load("llama-tiny")
        let g = m.makeGenerator()
        let prompt = repetitive(m, seed: 3, period: 3, count: 12)
        let runs = 200, length = 6
        var plain = [[Int: Int]](repeating: [:], count: length), spec = plain
        var accepted = 0
        for seed in 0..<runs {
            // Low temperature and top-k keep the output repetitive enough to draft, yet random.
            var o = GenerationOptions(maxTokens: length, sampling: SamplingParameters(temperature: 0.3, topK: 3, seed: UInt64(seed)),
                                      stopTokenIDs: [])
            let a = try g.generate(prompt: prompt, options: o)
            o.sampling.seed = UInt64(seed + 1_000_000)
            o.draft = .lookup
            let b = try g.generate(prompt: prompt, options: o)
            accepted += b.acceptedDraftTokens
            for (i, t) in a.generatedTokens.enumerated() { plain[i][t, default: 0] += 1 }
            for (i, t) in b.generatedTokens.enumerated() { spec[i][t, default: 0] += 1 }
        }
        XCTAssertGreaterThan(accepted, 0)
        for i in 0..<length {
            // Two-sample χ² over the tokens seen at position i (rare ones pooled).
            let ids = Set(plain[i].keys).union(spec[i].keys)
            var chi = 0.0, df = -1, pooled = (0, 0)
            for id in ids {
                let x = plain[i][id, default: 0], y = spec[i][id, default: 0]
                if x + y < 10 { pooled.0 += x; pooled.1 += y; continue }
                chi += pow(Double(x - y), 2) / Double(x + y)
                df += 1
            }
            if pooled.0 + pooled.1 > 0 { chi += pow(Double(pooled.0 - pooled.1), 2) / Double(pooled.0 + pooled.1); df += 1 }
            if df > 0 { XCTAssertLessThan(chi, chiSquareCritical(df: df), "position \(i): χ² \(chi) on \(df) df") }
        }
        print("sampled speculative: \(accepted) draft tokens accepted over \(runs) runs")
    }

    /// χ² critical value at p = 0.001 (Wilson–Hilferty).
    func chiSquareCritical(df: Int) -> Double {
        let k = Double(df), z = 3.09
        return k * pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
    }
}
