import Foundation

/// Wall-time per named operation, for finding where a forward pass spends its time.
/// Off unless the environment sets PHIKIT_PROFILE=1; then `phi4 bench` prints the table.
public final class Profiler: @unchecked Sendable {
    public static let shared = Profiler()
    public let enabled = ProcessInfo.processInfo.environment["PHIKIT_PROFILE"] == "1"
    private let lock = NSLock()
    private var totals: [String: (seconds: Double, calls: Int)] = [:]

    @inline(__always)
    public func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            lock.lock()
            let old = totals[name] ?? (0, 0)
            totals[name] = (old.seconds + dt, old.calls + 1)
            lock.unlock()
        }
        return try body()
    }

    public func reset() { lock.lock(); totals = [:]; lock.unlock() }

    /// One line per operation, slowest first.
    public func report() -> String {
        lock.lock(); defer { lock.unlock() }
        let total = totals.values.reduce(0) { $0 + $1.seconds }
        return totals.sorted { $0.value.seconds > $1.value.seconds }.map { name, v in
            String(format: "%-12@ %9.3f s %6.1f%% %8d calls", name as NSString, v.seconds, total > 0 ? 100 * v.seconds / total : 0, v.calls)
        }.joined(separator: "\n")
    }
}
