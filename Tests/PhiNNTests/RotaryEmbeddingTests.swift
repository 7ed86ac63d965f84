import Foundation
@testable import PhiNN
import PhiTestSupport
import XCTest

/// LongRoPE as transformers defines it (DESIGN.md): short factors while the whole sequence fits in the original
/// context, long ones beyond, the attention factor in both regimes, and a cache rebuilt when a step crosses.
final class RotaryEmbeddingTests: XCTestCase {
    let rope = RotaryEmbedding(kind: .longRoPE(shortFactors: [1, 2], longFactors: [3, 5], originalMaxPositionEmbeddings: 8),
                               rotaryDim: 4, theta: 100, attentionFactor: 1.25)

    func expectedTable(start: Int, count: Int, factors: [Float]) -> (cos: [Float], sin: [Float]) {
        var c: [Float] = [], s: [Float] = []
        for t in 0..<count {
            var rowC = [Float](repeating: 0, count: 4), rowS = rowC
            for i in 0..<2 {
                let base = Float(pow(Double(Float(100)), Double(Float(2 * i) / 4)))
                let angle = Float(start + t) * (1 / (factors[i] * base))
                rowC[i] = cos(angle) * 1.25; rowC[i + 2] = rowC[i]
                rowS[i] = sin(angle) * 1.25; rowS[i + 2] = rowS[i]
            }
            c += rowC; s += rowS
        }
        return (c, s)
    }

    func testShortAndLongRegimes() {
        XCTAssertFalse(rope.usesLongFactors(lastPosition: 7), "8 positions fit the original context")
        XCTAssertTrue(rope.usesLongFactors(lastPosition: 8))
        let short = rope.tables(start: 0, count: 8, long: false), wantShort = expectedTable(start: 0, count: 8, factors: [1, 2])
        XCTAssertLessThanOrEqual(Difference(short.cos, wantShort.cos).maxAbs, 1e-6)
        XCTAssertLessThanOrEqual(Difference(short.sin, wantShort.sin).maxAbs, 1e-6)
        let long = rope.tables(start: 5, count: 6, long: true), wantLong = expectedTable(start: 5, count: 6, factors: [3, 5])
        XCTAssertLessThanOrEqual(Difference(long.cos, wantLong.cos).maxAbs, 1e-6)
        XCTAssertLessThanOrEqual(Difference(long.sin, wantLong.sin).maxAbs, 1e-6)
        // Position 0: cos = attention factor, sin = 0, in both regimes.
        XCTAssertEqual(short.cos[0], 1.25)
        XCTAssertEqual(long.cos[0], wantLong.cos[0])
        XCTAssertNotEqual(short.cos[4 * 5 + 1], long.cos[1], "the regimes differ")
    }

    func testStandardRopeNeverSwitches() {
        let r = RotaryEmbedding(kind: .standard, rotaryDim: 4, theta: 100, attentionFactor: 1)
        XCTAssertFalse(r.usesLongFactors(lastPosition: 1_000_000))
        XCTAssertEqual(r.tables(start: 3, count: 2, long: true).cos, r.tables(start: 3, count: 2, long: false).cos)
    }

    /// Decoding across the original context: every step equals a cache-free pass over the whole sequence, and
    /// the step that crosses is recomputed with the long factors (bit for bit: it is the same whole-sequence pass).
    func testCrossingTheOriginalContextDuringDecoding() throws {
        let d = try TinyDecoder.make(seed: 11)
        let ids = TinyDecoder.tokens(14, seed: 5)
        let cache = d.makeCache()
        _ = try d.forward(Array(ids[0..<5]), cache: cache, logits: .last, tap: nil)
        for n in 6...14 {
            let step = try d.forward([ids[n - 1]], cache: cache, logits: .last, tap: nil)
            let truth = try lastLogits(d, Array(ids[0..<n]))
            XCTAssertEqual(cache.longFactors, n > 8, "after \(n) tokens")
            if n == 9 {
                XCTAssertEqual(step, truth, "the crossing step recomputes the whole sequence")
            } else {
                XCTAssertLessThanOrEqual(Difference(step, truth).maxAbs, Tolerance.reordering, "step \(n)")
            }
        }
        // A cache that kept its short-factor keys would be wrong: the long regime really changes the numbers.
        let short = try TinyDecoder.make(seed: 11, longRoPE: false)
        XCTAssertGreaterThan(Difference(try lastLogits(short, ids), try lastLogits(d, ids)).maxAbs, 1e-3)
    }
}
