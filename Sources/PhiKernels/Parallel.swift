import CPhiKernels
import Dispatch

/// Splits work across a fixed number of threads. Thread count is chosen once per model/session.
public struct Parallel: Sendable {
    public let threads: Int

    public init(threads: Int? = nil) {
        self.threads = max(1, threads ?? Platform.coreCount)
    }

    /// Runs `body(start, end)` over `[0, count)` split into at most `threads` contiguous ranges
    /// whose bounds are multiples of `granularity` (except the last).
    public func forRanges(_ count: Int, granularity: Int = 1, _ body: (Int, Int) -> Void) {
        guard count > 0 else { return }
        let g = max(1, granularity)
        let units = (count + g - 1) / g
        let n = min(threads, units)
        if n <= 1 { body(0, count); return }
        withoutActuallyEscaping(body) { body in
            var job: (Int) -> Void = { i in
                let start = (units * i / n) * g
                let end = min(count, (units * (i + 1) / n) * g)
                if start < end { body(start, end) }
            }
            // The spinning worker pool when it is free (see pool.c), else GCD.
            let ran = withUnsafeMutablePointer(to: &job) { p in
                phi_pool_run(Int64(n), { ctx, i in
                    ctx?.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(i))
                }, UnsafeMutableRawPointer(p), Int32(threads)) == 0
            }
            if !ran { DispatchQueue.concurrentPerform(iterations: n) { job($0) } }
        }
    }
}
