@testable import PhiNN
import PhiTestSupport
import XCTest

final class KVCacheTests: XCTestCase {
    /// Truncating to a prefix and continuing equals running prefix + continuation from scratch.
    func testTruncateThenContinue() throws {
        let d = try TinyDecoder.make(seed: 21, longRoPE: false)
        let a = TinyDecoder.tokens(6, seed: 1), b = TinyDecoder.tokens(5, seed: 2), c = TinyDecoder.tokens(4, seed: 3)
        let cache = d.makeCache()
        _ = try d.forward(a + b, cache: cache, logits: .none, tap: nil)
        XCTAssertEqual(cache.count, 11)
        cache.truncate(to: a.count)
        XCTAssertEqual(cache.count, a.count)
        XCTAssertEqual(cache.tokens, a)
        let continued = try d.forward(c, cache: cache, logits: .all, tap: nil)
        let fresh = try d.forward(a + c, cache: d.makeCache(), logits: .all, tap: nil)
        XCTAssertLessThanOrEqual(Difference(continued, Array(fresh.suffix(continued.count))).maxAbs, Tolerance.reordering)
        cache.truncate(to: 100)   // longer than the cache: nothing changes
        XCTAssertEqual(cache.count, a.count + c.count)
    }

    func testResetStartsOver() throws {
        let d = try TinyDecoder.make(seed: 22)
        let ids = TinyDecoder.tokens(12, seed: 4)
        let cache = d.makeCache()
        _ = try d.forward(ids, cache: cache, logits: .none, tap: nil)
        XCTAssertTrue(cache.longFactors)
        cache.reset()
        XCTAssertEqual(cache.count, 0)
        XCTAssertEqual(cache.tokens, [])
        XCTAssertFalse(cache.longFactors)
        XCTAssertEqual(try d.forward(Array(ids[0..<4]), cache: cache, logits: .last, tap: nil),
                       try lastLogits(d, Array(ids[0..<4])))
    }

    /// The context limit is the smaller of the model's and the cache's, and exceeding it is an error, not a crash.
    func testContextLimits() throws {
        let d = try TinyDecoder.make(seed: 23, longRoPE: false, contextLength: 10)
        XCTAssertThrowsError(try d.forward(TinyDecoder.tokens(11, seed: 1), cache: d.makeCache(), logits: .last, tap: nil))
        let small = d.makeCache(maxLength: 4)
        XCTAssertThrowsError(try d.forward(TinyDecoder.tokens(5, seed: 1), cache: small, logits: .last, tap: nil))
        XCTAssertThrowsError(try d.forward([TinyDecoder.vocab], cache: d.makeCache(), logits: .last, tap: nil))
        XCTAssertThrowsError(try d.forward([-1], cache: d.makeCache(), logits: .last, tap: nil))
    }

    /// Growing the cache past its initial capacity keeps what it holds.
    func testGrowthKeepsContents() throws {
        let d = try TinyDecoder.make(seed: 24, longRoPE: false, contextLength: 600)
        let ids = TinyDecoder.tokens(300, seed: 9)
        let cache = d.makeCache()
        _ = try d.forward(Array(ids[0..<250]), cache: cache, logits: .none, tap: nil)
        let next = try d.forward(Array(ids[250...]), cache: cache, logits: .last, tap: nil)
        XCTAssertLessThanOrEqual(Difference(next, try lastLogits(d, ids)).maxAbs, Tolerance.reordering)
    }
}
