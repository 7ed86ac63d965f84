import Foundation
import PhiKit
import XCTest

/// A batched forward pass over several sequences (each with its own cache, length, position, rope regime and
/// LoRA) gives each one what running it alone gives: the same greedy tokens and the same logits.
final class BatchedForwardTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("PhiModelsTests/Fixtures")

    func load(_ name: String, quantize: LoadQuantization = .none) throws -> LoadedModel {
        try ModelLoader.load(path: Self.fixtures.appendingPathComponent(name).path, threads: 2, quantize: quantize)
    }

    /// A sequence of the test: its prompt, how much of it is prefilled alone first, and its conditioning.
    struct Sequence {
        var prompt: [Int]
        var prefilled: Int
        var conditioning: Conditioning? = nil
    }

    /// Runs every sequence twice — alone, and all together through `forward(batch:)` — for the rest of its
    /// prompt (one chunk, logits for every row) and then `steps` greedy decode steps, and compares. Returns
    /// the largest absolute logit difference and whether every logit was bit-identical.
    @discardableResult
    func compare(_ model: LanguageModel, _ seqs: [Sequence], steps: Int, tolerance: Float = 1e-4,
                 file: StaticString = #filePath, line: UInt = #line) throws -> (maxDiff: Float, identical: Bool) {
        func prepared() throws -> [KVCache] {
            try seqs.map { s in
                let c = model.makeCache(maxLength: 64)
                if s.prefilled > 0 {
                    _ = try model.forward(Array(s.prompt.prefix(s.prefilled)), cache: c, logits: .none, conditioning: s.conditioning)
                }
                return c
            }
        }
        let alone = try prepared(), together = try prepared()
        var maxDiff: Float = 0, identical = true
        func check(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count, what, file: file, line: line)
            for (x, y) in zip(a, b) {
                maxDiff = max(maxDiff, abs(x - y))
                if x.bitPattern != y.bitPattern { identical = false }
            }
        }
        // The rest of each prompt, all rows' logits.
        var inputs = seqs.map { Array($0.prompt.dropFirst($0.prefilled)) }
        var ref: [[Float]] = []
        for (k, s) in seqs.enumerated() {
            ref.append(try model.forward(inputs[k], cache: alone[k], logits: .all, conditioning: s.conditioning))
        }
        var got = try model.forward(batch: seqs.indices.map {
            BatchItem(tokens: inputs[$0], cache: together[$0], logits: .all, conditioning: seqs[$0].conditioning)
        })
        for k in seqs.indices { check(ref[k], got[k], "prompt of sequence \(k)") }
        // Greedy decode steps, one token per sequence per step.
        let V = model.vocabularySize
        var tokensAlone = seqs.map { _ in [Int]() }, tokensTogether = tokensAlone
        for step in 0..<steps {
            for k in seqs.indices {
                tokensAlone[k].append(Sampler.argmax(Array(ref[k].suffix(V))))
                tokensTogether[k].append(Sampler.argmax(Array(got[k].suffix(V))))
                inputs[k] = [tokensAlone[k].last ?? 0]
            }
            XCTAssertEqual(tokensAlone, tokensTogether, "step \(step)", file: file, line: line)
            ref = try seqs.indices.map {
                try model.forward(inputs[$0], cache: alone[$0], logits: .last, conditioning: seqs[$0].conditioning)
            }
            got = try model.forward(batch: seqs.indices.map {
                BatchItem(tokens: inputs[$0], cache: together[$0], conditioning: seqs[$0].conditioning)
            })
            for k in seqs.indices { check(ref[k], got[k], "step \(step) of sequence \(k)") }
        }
        for k in seqs.indices {
            XCTAssertEqual(alone[k].tokens, together[k].tokens, file: file, line: line)
            XCTAssertEqual(alone[k].longFactors, together[k].longFactors, file: file, line: line)
        }
        XCTAssertLessThanOrEqual(maxDiff, tolerance, file: file, line: line)
        return (maxDiff, identical)
    }

    func prompt(_ m: LoadedModel, _ count: Int, seed: Int) -> [Int] {
        (0..<count).map { (($0 + 1) * 7919 + seed * 104_729) % (m.model.vocabularySize - 10) + 1 }
    }

    /// Phi-4-mini tiny (LongRoPE, original context 16): mixed lengths and positions, a sequence whose decode
    /// crosses 16 mid-run, one that starts past 16, one whose prompt chunk switches regime (run alone inside).
    func testMixedLengthsPositionsAndLongRoPE() throws {
        let m = try load("phi4mini-tiny")
        let seqs = [
            Sequence(prompt: prompt(m, 5, seed: 1), prefilled: 4),    // decode from position 4
            Sequence(prompt: prompt(m, 12, seed: 2), prefilled: 3),   // a 9-token chunk, then decode across 16
            Sequence(prompt: prompt(m, 20, seed: 3), prefilled: 0),   // a fresh 20-token prompt: long from the start
            Sequence(prompt: prompt(m, 18, seed: 4), prefilled: 14),  // a chunk crossing 16: regime switch
            Sequence(prompt: prompt(m, 2, seed: 5), prefilled: 1),
        ]
        let r = try compare(m.model, seqs, steps: 8)
        print("phi4mini-tiny f32 batched: max |Δlogit| \(r.maxDiff), bit-identical \(r.identical)")
        // f32 and quantized products compute each row the same whatever the row count: bit-identical.
        XCTAssertTrue(r.identical)
    }

    func testQuantizedAndBF16Weights() throws {
        for (name, q) in [("phi4mini-tiny", LoadQuantization.q4_0), ("phi4mini-tiny", .q8_0), ("phi4mini-tiny-bf16", .none),
                          ("llama-tiny", .q4_K)] {
            let m = try load(name, quantize: q)
            let seqs = [Sequence(prompt: prompt(m, 3, seed: 1), prefilled: 2), Sequence(prompt: prompt(m, 9, seed: 2), prefilled: 0),
                        Sequence(prompt: prompt(m, 15, seed: 3), prefilled: 10)]
            let r = try compare(m.model, seqs, steps: 6, tolerance: 1e-3)
            print("\(name) \(q.dtype?.rawValue ?? "stored") batched: max |Δlogit| \(r.maxDiff), bit-identical \(r.identical)")
            // bf16 weights with many rows may round the activations to bf16 once (AVX512-BF16 panel path), so
            // they agree within tolerance only; the quantized kernels quantize each row alike at any row count.
            if q.dtype != nil { XCTAssertTrue(r.identical, "\(name) \(q)") }
        }
    }

    /// Phi-4-multimodal tiny: rows of one batch run with the vision LoRA, the speech LoRA and none, with
    /// spliced feature rows, on shared base weights.
    func testMixedLoRAModes() throws {
        let m = try load("phi4mm-tiny")
        let mm = try XCTUnwrap(m.multimodal)
        let H = m.model.hiddenSize
        func features(_ seed: Int, at positions: [Int]) -> [Float] {
            (0..<(positions.count * H)).map { Float(sin(Double($0 * 31 + seed))) * 0.5 }
        }
        let vision = try Conditioning(adapter: try mm.adapter(for: .vision), positions: [1, 2], rows: features(1, at: [1, 2]), width: H)
        let speech = try Conditioning(adapter: try mm.adapter(for: .speech), positions: [6], rows: features(2, at: [6]), width: H)
        XCTAssertNotNil(vision.adapter)
        XCTAssertNotNil(speech.adapter)
        let seqs = [
            Sequence(prompt: prompt(m, 6, seed: 1), prefilled: 1, conditioning: vision),  // features land in the batched chunk
            Sequence(prompt: prompt(m, 4, seed: 2), prefilled: 3),                        // text: base weights
            Sequence(prompt: prompt(m, 9, seed: 3), prefilled: 2, conditioning: speech),
            Sequence(prompt: prompt(m, 5, seed: 4), prefilled: 4, conditioning: vision),
        ]
        let r = try compare(m.model, seqs, steps: 6)
        print("phi4mm-tiny mixed LoRA batched: max |Δlogit| \(r.maxDiff), bit-identical \(r.identical)")
        XCTAssertTrue(r.identical)
        // The adapters matter here: the same tokens without conditioning give other logits.
        let plain = m.model.makeCache(maxLength: 64), adapted = m.model.makeCache(maxLength: 64)
        let a = try m.model.forward(seqs[2].prompt, cache: plain, logits: .last)
        let b = try m.model.forward(seqs[2].prompt, cache: adapted, logits: .last, conditioning: speech)
        XCTAssertGreaterThan(zip(a, b).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }

    func testBadItemsThrowBeforeAnyCacheChanges() throws {
        let m = try load("phi4mini-tiny")
        let a = m.model.makeCache(maxLength: 64), b = m.model.makeCache(maxLength: 8)
        XCTAssertThrowsError(try m.model.forward(batch: [BatchItem(tokens: [1, 2], cache: a), BatchItem(tokens: [3], cache: a)]))
        XCTAssertThrowsError(try m.model.forward(batch: [BatchItem(tokens: [1, 2], cache: a), BatchItem(tokens: Array(repeating: 1, count: 9), cache: b)]))
        XCTAssertThrowsError(try m.model.forward(batch: [BatchItem(tokens: [1], cache: a), BatchItem(tokens: [-1], cache: b)]))
        XCTAssertEqual(a.count, 0)
        XCTAssertEqual(b.count, 0)
        XCTAssertEqual(try m.model.forward(batch: []).count, 0)
        let out = try m.model.forward(batch: [BatchItem(tokens: [], cache: a), BatchItem(tokens: [5], cache: b, logits: .none)])
        XCTAssertEqual(out.map(\.count), [0, 0])
        XCTAssertEqual(b.count, 1)
    }
}
