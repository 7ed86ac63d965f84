@testable import PhiNN
import PhiKernels
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

    /// Keys land in whole blocks of 16 positions: every stored float reads back at its (head, dim, position),
    /// through growth past the initial capacity and through a copy of a prefix that does not end on a block.
    func testKeyBlocksHoldEveryElement() throws {
        let kv = 2, D = 5, width = kv * D
        let cache = KVCache(layers: 2, kvHeads: kv, headDim: D, maxLength: 70, initialCapacity: 3)
        XCTAssertEqual(cache.capacity % Kernels.keyBlock, 0)
        func key(_ l: Int, _ t: Int, _ r: Int) -> Float { Float(l * 10_000 + t * 100 + r) }
        var stored = 0
        for chunk in [1, 7, 12, 20, 23] {  // 63 positions in uneven chunks: several regrowths
            try cache.reserve(stored + chunk)
            for l in 0..<2 {
                let k = (0..<(chunk * width)).map { key(l, stored + $0 / width, $0 % width) }
                let v = k.map { -$0 }
                cache.store(layer: l, k: k, ldk: width, v: v, ldv: width, rows: chunk)
            }
            cache.commit(tokens: Array(repeating: 0, count: chunk), longFactors: false)
            stored += chunk
            XCTAssertEqual(cache.capacity % Kernels.keyBlock, 0)
        }
        let copy = cache.copy(prefix: 37)
        for l in 0..<2 {
            for t in 0..<stored {
                for h in 0..<kv {
                    for d in 0..<D {
                        XCTAssertEqual(cache.key(layer: l, head: h, dim: d, position: t), key(l, t, h * D + d))
                        XCTAssertEqual(cache.values(layer: l)[(h * cache.capacity + t) * D + d], -key(l, t, h * D + d))
                        if t < 37 { XCTAssertEqual(copy.key(layer: l, head: h, dim: d, position: t), key(l, t, h * D + d)) }
                    }
                }
            }
        }
        XCTAssertEqual(copy.count, 37)
        XCTAssertEqual(cache.memoryBytes, cache.capacity * cache.bytesPerPosition)
    }
}
