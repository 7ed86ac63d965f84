import PhiKernels

/// Keys and values of every layer for one sequence. Keys are stored in blocks of `Kernels.keyBlock` (16)
/// positions, [kvHeads][capacity/16][headDim][16], so attention scores 16 positions per vector op and reads the
/// keys front to back; values are [kvHeads][capacity][headDim]. Capacity is a multiple of 16 and grows by
/// doubling up to `maxLength` (rounded up to 16).
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
    /// Identity of the `Conditioning` the cached positions were computed with (nil: plain text). Placeholder
    /// tokens look alike for every image, so a cached prefix is reusable only under the same conditioning.
    public internal(set) var conditioningID: ObjectIdentifier?
    var keys: [UnsafeMutablePointer<Float>]
    var values: [UnsafeMutablePointer<Float>]

    /// `TransformerDecoder.makeCache` passes sizes its initializer checked (a cache of twice the context fits), so
    /// the products here cannot overflow; a caller passing sizes of its own must keep to the same bound.
    public init(layers: Int, kvHeads: Int, headDim: Int, maxLength: Int, initialCapacity: Int = 256) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.maxLength = maxLength
        capacity = Self.roundedCapacity(max(1, min(initialCapacity, maxLength)))
        guard let n = Self.elements(kvHeads: kvHeads, headDim: headDim, capacity: capacity), layers >= 0 else {
            preconditionFailure("KVCache: \(layers) layers × \(kvHeads) kv heads × \(headDim) × \(capacity) positions overflows")
        }
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

    /// A new cache holding this one's first `length` positions (and their tokens, rope regime and conditioning),
    /// with room to grow to `maxLength`. The prefix cache of a server keeps one cache per shared prompt and hands
    /// each request its own copy, so requests never write into each other's state.
    public func copy(prefix length: Int, maxLength newMax: Int? = nil) -> KVCache {
        let n = max(0, min(length, count))
        let target = max(newMax ?? maxLength, n)
        let c = KVCache(layers: layers, kvHeads: kvHeads, headDim: headDim, maxLength: target,
                        initialCapacity: max(n, min(256, target)))
        let keyCount = Self.roundedCapacity(n) * headDim  // whole key blocks: [kvHeads][blocks][headDim][16]
        for l in 0..<layers {
            for h in 0..<kvHeads {                // values: [kvHeads][capacity][headDim]
                (c.keys[l] + h * c.capacity * headDim).update(from: keys[l] + h * capacity * headDim, count: keyCount)
                (c.values[l] + h * c.capacity * headDim).update(from: values[l] + h * capacity * headDim, count: n * headDim)
            }
        }
        c.count = n
        c.tokens = Array(tokens.prefix(n))
        c.longFactors = longFactors
        c.conditioningID = conditioningID
        return c
    }

    /// `positions` rounded up to a whole key block (positions near Int.max stay where they are: their sizes
    /// overflow in `elements` and are refused there).
    static func roundedCapacity(_ positions: Int) -> Int {
        let b = Kernels.keyBlock
        let (r, o) = positions.addingReportingOverflow(b - 1)
        return o ? positions : r / b * b
    }

    /// Floats of one layer's keys (or values) for `capacity` positions, nil when the count overflows Int.
    static func elements(kvHeads: Int, headDim: Int, capacity: Int) -> Int? {
        let (a, o1) = kvHeads.multipliedReportingOverflow(by: headDim)
        let (n, o2) = a.multipliedReportingOverflow(by: capacity)
        return o1 || o2 || kvHeads < 0 || headDim < 0 || capacity < 0 ? nil : n
    }

    /// Bytes of keys and values of every layer for `capacity` × `factor` positions, nil when that overflows Int.
    static func byteCount(layers: Int, kvHeads: Int, headDim: Int, capacity: Int, factor: Int = 1) -> Int? {
        let (c, o1) = capacity.multipliedReportingOverflow(by: factor)
        guard !o1, let n = elements(kvHeads: kvHeads, headDim: headDim, capacity: c) else { return nil }
        let (perLayer, o2) = n.multipliedReportingOverflow(by: 2 * MemoryLayout<Float>.size)
        let (total, o3) = perLayer.multipliedReportingOverflow(by: layers)
        return o2 || o3 || layers < 0 ? nil : total
    }

    /// Makes room for `needed` positions in total (the content stays). Throws when the grown cache's size
    /// overflows Int.
    public func reserve(_ needed: Int) throws {
        guard needed > capacity else { return }
        var newCap = capacity
        while newCap < needed {
            let (doubled, overflow) = newCap.multipliedReportingOverflow(by: 2)
            newCap = overflow ? needed : doubled
        }
        newCap = Self.roundedCapacity(min(max(newCap, needed), max(maxLength, needed)))
        guard Self.byteCount(layers: layers, kvHeads: kvHeads, headDim: headDim, capacity: newCap) != nil else {
            throw DecoderError.sizeOverflow(what: "a KV cache of \(newCap) positions")
        }
        for l in 0..<layers {
            keys[l] = regrow(keys[l], positions: Self.roundedCapacity(count), newCap)  // whole key blocks
            values[l] = regrow(values[l], positions: count, newCap)
        }
        capacity = newCap
    }

    /// Copies the first `positions` × headDim floats of each kv head's slab (capacity × headDim) into slabs of
    /// newCap × headDim: values are [capacity][headDim] per head, and keys' blocks of 16 positions
    /// ([blocks][headDim][16]) hold the same floats per position.
    private func regrow(_ old: UnsafeMutablePointer<Float>, positions: Int, _ newCap: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * newCap * headDim)
        for h in 0..<kvHeads {
            (p + h * newCap * headDim).update(from: old + h * capacity * headDim, count: positions * headDim)
        }
        old.deallocate()
        return p
    }

    /// Stores keys/values for positions count ..< count+T of layer l from rows laid out [T, kvHeads·headDim].
    public func store(layer l: Int, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int, rows T: Int) {
        for h in 0..<kvHeads {
            let kh = keys[l] + h * headDim * capacity           // [blocks][headDim][16]
            let vd = values[l] + (h * capacity + count) * headDim
            for t in 0..<T {
                let src = k + t * ldk + h * headDim
                for d in 0..<headDim { kh[Kernels.keyOffset(dim: d, position: count + t, headDim: headDim)] = src[d] }
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

    /// Marks the cached positions as computed under `conditioning` (used when a state saved to disk is read
    /// back: the restored positions were computed with features equal to the restored `conditioning`).
    public func assignConditioning(_ conditioning: Conditioning?) {
        conditioningID = conditioning.map { ObjectIdentifier($0) }
    }

    public func keys(layer l: Int) -> UnsafePointer<Float> { UnsafePointer(keys[l]) }
    /// Key element `d` of kv head `h` at position `t` of layer `l` (t < count).
    public func key(layer l: Int, head h: Int, dim d: Int, position t: Int) -> Float {
        keys[l][h * headDim * capacity + Kernels.keyOffset(dim: d, position: t, headDim: headDim)]
    }
    public func values(layer l: Int) -> UnsafePointer<Float> { UnsafePointer(values[l]) }

    public var memoryBytes: Int { capacity * bytesPerPosition }
    /// Key and value bytes of one position over every layer.
    public var bytesPerPosition: Int { 2 * layers * kvHeads * headDim * MemoryLayout<Float>.size }
}
