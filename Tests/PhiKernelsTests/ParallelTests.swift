import Dispatch
import Foundation
import PhiKernels
import XCTest

/// `Parallel.forRanges` on the spinning worker pool: every index covered exactly once, many short jobs back to
/// back, jobs from several threads at once and jobs started from inside a job (those fall back to GCD).
final class ParallelTests: XCTestCase {
    final class Counts: @unchecked Sendable {
        let lock = NSLock()
        var hits: [Int]
        init(_ n: Int) { hits = [Int](repeating: 0, count: n) }
        func add(_ r: Range<Int>) { lock.lock(); for i in r { hits[i] += 1 }; lock.unlock() }
    }

    func testEveryIndexOnceOverManyShortJobs() {
        for threads in [2, 3, 4] {
            let p = Parallel(threads: threads)
            for job in 0..<2000 {
                let n = 1 + job % 37
                let c = Counts(n)
                p.forRanges(n) { a, b in c.add(a..<b) }
                XCTAssertEqual(c.hits, [Int](repeating: 1, count: n), "threads \(threads) job \(job)")
            }
        }
    }

    func testConcurrentAndNestedCallers() {
        let p = Parallel(threads: 2)
        let outer = Counts(8 * 64)
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for _ in 0..<50 {
                let inner = Counts(64)
                p.forRanges(64, granularity: 4) { a, b in
                    // A region inside a region: the pool is busy, so it runs on GCD.
                    p.forRanges(b - a) { x, y in inner.add((a + x)..<(a + y)) }
                }
                XCTAssertEqual(inner.hits, [Int](repeating: 1, count: 64))
            }
            outer.add((caller * 64)..<(caller * 64 + 64))
        }
        XCTAssertEqual(outer.hits, [Int](repeating: 1, count: 8 * 64))
    }
}
