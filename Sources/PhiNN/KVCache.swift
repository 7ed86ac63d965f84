/// Keys and values of every layer for one sequence, stored [kvHeads][capacity][headDim] per layer so
/// attention reads each head's history contiguously. Capacity grows by doubling up to `maxLength`.
public final class KVCache: @unchecked Sendable {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public let maxLength: Int
    public private(set) var capacity: Int
    /// Positions filled so far.
    public internal(set) var count: Int = 0
    /// Token ids whose keys/values are cached (needed to rebuild the cache when LongRoPE switches regime).
    public internal(set) var tokens: [Int] = []
    /// Whether the cached keys were rotated with LongRoPE's long factors.
    public internal(set) var longFactors = false
    var keys: [UnsafeMutablePointer<Float>]
    var values: [UnsafeMutablePointer<Float>]

    public init(layers: Int, kvHeads: Int, headDim: Int, maxLength: Int, initialCapacity: Int = 256) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.maxLength = maxLength
        capacity = max(1, min(initialCapacity, maxLength))
        let n = kvHeads * capacity * headDim
        keys = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
        values = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public func reset() {
        count = 0
        tokens = []
        longFactors = false
    }

    /// Drops everything after the first `length` positions (for prompt-prefix reuse).
    public func truncate(to length: Int) {
        guard length < count else { return }
        count = max(0, length)
        tokens.removeLast(tokens.count - count)
    }

    /// Makes room for `needed` positions in total.
    public func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        var newCap = capacity
        while newCap < needed { newCap *= 2 }
        newCap = min(max(newCap, needed), max(maxLength, needed))
        for l in 0..<layers {
            keys[l] = regrow(keys[l], newCap)
            values[l] = regrow(values[l], newCap)
        }
        capacity = newCap
    }

    private func regrow(_ old: UnsafeMutablePointer<Float>, _ newCap: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * newCap * headDim)
        for h in 0..<kvHeads {
            (p + h * newCap * headDim).update(from: old + h * capacity * headDim, count: count * headDim)
        }
        old.deallocate()
        return p
    }

    /// Stores keys/values for positions count ..< count+T of layer l from rows laid out [T, kvHeads·headDim].
    public func store(layer l: Int, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int, rows T: Int) {
        for h in 0..<kvHeads {
            let kd = keys[l] + (h * capacity + count) * headDim
            let vd = values[l] + (h * capacity + count) * headDim
            for t in 0..<T {
                (kd + t * headDim).update(from: k + t * ldk + h * headDim, count: headDim)
                (vd + t * headDim).update(from: v + t * ldv + h * headDim, count: headDim)
            }
        }
    }

    /// Marks positions count ..< count+tokens.count as filled (after every layer stored them).
    public func commit(tokens new: [Int], longFactors long: Bool) {
        count += new.count
        tokens += new
        longFactors = long
    }

    public func keys(layer l: Int) -> UnsafePointer<Float> { UnsafePointer(keys[l]) }
    public func values(layer l: Int) -> UnsafePointer<Float> { UnsafePointer(values[l]) }

    public var memoryBytes: Int { 2 * layers * kvHeads * capacity * headDim * MemoryLayout<Float>.size }
}
