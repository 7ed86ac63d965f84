import CPhiKernels
import Dispatch
import Foundation

/// The memory read speed that bounds token generation: every weight byte is read once per generated token, so
/// tokens/s can never exceed bandwidth ÷ weight bytes.
public enum MemoryBandwidth {
    /// Best aggregate read speed, in bytes per second, over `passes` reads of a `bytes` buffer (much larger than
    /// the caches) split across `parallel`'s threads, the way a matrix-vector product splits a weight.
    public static func measureRead(bytes: Int = 1 << 30, passes: Int = 5, parallel: Parallel) -> Double {
        let count = max(bytes, 1 << 20)
        guard let buffer = Platform.allocateLarge(byteCount: count) else { return 0 }
        defer { Platform.deallocateLarge(buffer, byteCount: count) }
        memset(buffer, 0x5A, count)   // resident before timing
        let p = UncheckedPointer(buffer)
        var best = 0.0
        for _ in 0..<max(passes, 1) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            parallel.forRanges(count, granularity: 1 << 16) { lo, hi in
                _ = phi_read_pass(p.pointer + lo, Int64(hi - lo))   // an opaque C call: never elided
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if seconds > 0 { best = max(best, Double(count) / seconds) }
        }
        return best
    }
}
