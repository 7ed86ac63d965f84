import XCTest
@testable import PhiGeneration
import PhiTokenizer

/// The constraint cache is bounded in bytes as well as in entries, so large constraints cannot pin memory.
final class ConstraintCacheTests: XCTestCase {
    func testCacheStaysWithinItsByteBudget() throws {
        let tok = try ConstraintPropertyTests.tinyTokenizer.get()
        let budget = 16 << 20
        let cache = ConstraintCache(capacity: 64, byteBudget: budget)
        // Each `[a-z]{0,N}` is a chain of about N nodes of 1 KB: 2.6–3.2 MB, 20 of them over 55 MB.
        var bounds: [Int] = []
        for i in 0..<20 {
            let c = try cache.compiled(.regex("[a-z]{0,\(2_600 + 30 * i)}"), tokenizer: tok)
            bounds.append(c.memoryBound)
            let (count, bytes) = cache.usage
            XCTAssertLessThanOrEqual(bytes, budget)
            XCTAssertLessThan(count, 20)
        }
        XCTAssertGreaterThan(bounds.reduce(0, +), 3 * budget, "the constraints were too small to test the budget")
        XCTAssertTrue(bounds.allSatisfy { $0 > 2 << 20 && $0 < budget / 2 })
        // The newest is kept (a hit returns the same instance); the oldest were evicted.
        let last = Constraint.regex("[a-z]{0,\(2_600 + 30 * 19)}")
        XCTAssertTrue(try cache.compiled(last, tokenizer: tok) === cache.compiled(last, tokenizer: tok))
        let first = Constraint.regex("[a-z]{0,2600}")
        let again = try cache.compiled(first, tokenizer: tok)
        XCTAssertTrue(try cache.compiled(first, tokenizer: tok) === again)
        XCTAssertLessThanOrEqual(cache.usage.bytes, budget)
    }

    func testConstraintAboveHalfTheBudgetIsNotKept() throws {
        let tok = try ConstraintPropertyTests.tinyTokenizer.get()
        let cache = ConstraintCache(capacity: 64, byteBudget: 4 << 20)
        let big = Constraint.regex("[a-z]{0,3000}")  // about 3 MB
        let a = try cache.compiled(big, tokenizer: tok)
        XCTAssertGreaterThan(a.memoryBound, 2 << 20)
        XCTAssertFalse(try cache.compiled(big, tokenizer: tok) === a, "kept although above half the budget")
        XCTAssertEqual(cache.usage.count, 0)
        let small = Constraint.regex("[a-z]{0,10}")
        XCTAssertTrue(try cache.compiled(small, tokenizer: tok) === cache.compiled(small, tokenizer: tok))
        XCTAssertEqual(cache.usage.count, 1)
    }
}
