@testable import PhiNN
import PhiTestSupport
import XCTest

final class PrefillTests: XCTestCase {
    /// A prompt processed in chunks equals the one-shot pass, in both LongRoPE regimes.
    func testChunkedPrefillEqualsOneShot() throws {
        for (longRoPE, n) in [(false, 20), (true, 7), (true, 20)] {
            let oneShot = try TinyDecoder.make(seed: 31, longRoPE: longRoPE)
            let chunked = try TinyDecoder.make(seed: 31, longRoPE: longRoPE)
            chunked.prefillChunk = 3
            let ids = TinyDecoder.tokens(n, seed: 8)
            let a = try oneShot.forward(ids, cache: oneShot.makeCache(), logits: .all, tap: nil)
            let b = try chunked.forward(ids, cache: chunked.makeCache(), logits: .all, tap: nil)
            XCTAssertEqual(a.count, n * TinyDecoder.vocab)
            XCTAssertLessThanOrEqual(Difference(b, a).maxAbs, Tolerance.reordering, "longRoPE \(longRoPE), \(n) tokens")
            let last = try chunked.forward(ids, cache: chunked.makeCache(), logits: .last, tap: nil)
            XCTAssertLessThanOrEqual(Difference(last, Array(b.suffix(TinyDecoder.vocab))).maxAbs, Tolerance.reordering)
        }
    }

    /// The last-row-only shortcut of the final layer changes no logit of the last row.
    func testLastRowShortcut() throws {
        let d = try TinyDecoder.make(seed: 32, longRoPE: false)
        let ids = TinyDecoder.tokens(9, seed: 3)
        let all = try d.forward(ids, cache: d.makeCache(), logits: .all, tap: nil)
        XCTAssertLessThanOrEqual(Difference(try lastLogits(d, ids), Array(all.suffix(TinyDecoder.vocab))).maxAbs,
                                 Tolerance.reordering)
    }
}
