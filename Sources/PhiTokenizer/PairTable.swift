/// Open-addressing map from a token-id pair to its merge: `(rank << 32) | mergedId`, or `UInt64.max` if absent.
///
/// Packing the rank in the high half makes "lowest rank" a plain integer comparison in the BPE loop.
struct PairTable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var shift: UInt64
    private(set) var count = 0

    static let absent = UInt64.max

    init(capacity: Int) {
        var bits: UInt64 = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        keys = [UInt64](repeating: .max, count: 1 << Int(bits))
        values = [UInt64](repeating: .max, count: 1 << Int(bits))
        shift = 64 - bits
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    @inline(__always)
    func get(_ a: Int32, _ b: Int32) -> UInt64 {
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        let mask = keys.count - 1
        var s = slot(key)
        while true {
            let k = keys[s]
            if k == key { return values[s] }
            if k == .max { return Self.absent }
            s = (s + 1) & mask
        }
    }

    /// Inserts or overwrites (HF keeps the last duplicate merge).
    mutating func set(_ a: Int32, _ b: Int32, rank: Int, merged: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
        let value = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        let mask = keys.count - 1
        var s = slot(key)
        while keys[s] != .max && keys[s] != key { s = (s + 1) & mask }
        if keys[s] == .max { count += 1 }
        keys[s] = key
        values[s] = value
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt64](repeating: .max, count: oldKeys.count * 2)
        values = [UInt64](repeating: .max, count: oldKeys.count * 2)
        shift -= 1
        let mask = keys.count - 1
        for (k, v) in zip(oldKeys, oldValues) where k != .max {
            var s = slot(k)
            while keys[s] != .max { s = (s + 1) & mask }
            keys[s] = k
            values[s] = v
        }
    }
}
