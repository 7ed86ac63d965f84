/// A set of token ids as a bitset (one bit per id of the vocabulary).
public struct TokenMask: Sendable, Equatable {
    public private(set) var words: [UInt64]
    public let count: Int

    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    @inline(__always) public func contains(_ id: Int) -> Bool {
        id >= 0 && id < count && words[id >> 6] & (UInt64(1) << UInt64(id & 63)) != 0
    }

    @inline(__always) public mutating func insert(_ id: Int) {
        guard id >= 0 && id < count else { return }
        words[id >> 6] |= UInt64(1) << UInt64(id & 63)
    }

    public mutating func remove(_ id: Int) {
        guard id >= 0 && id < count else { return }
        words[id >> 6] &= ~(UInt64(1) << UInt64(id & 63))
    }

    public mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
    }

    mutating func formUnion(words other: UnsafeBufferPointer<UInt64>) {
        words.withUnsafeMutableBufferPointer { w in
            for i in 0..<min(w.count, other.count) { w[i] |= other[i] }
        }
    }

    public mutating func formUnion(_ other: TokenMask) {
        other.words.withUnsafeBufferPointer { formUnion(words: $0) }
    }

    /// Number of allowed ids.
    public var allowedCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isEmpty: Bool { !words.contains { $0 != 0 } }

    /// The allowed id when exactly one is allowed.
    public var single: Int? {
        var found: Int? = nil
        for (i, w) in words.enumerated() where w != 0 {
            if found != nil || w.nonzeroBitCount != 1 { return nil }
            found = i * 64 + w.trailingZeroBitCount
        }
        return found
    }

    /// Allowed ids in increasing order.
    public var allowedIDs: [Int] {
        var out: [Int] = []
        for (i, w) in words.enumerated() {
            var x = w
            while x != 0 {
                out.append(i * 64 + x.trailingZeroBitCount)
                x &= x - 1
            }
        }
        return out
    }
}
