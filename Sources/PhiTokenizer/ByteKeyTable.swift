import Foundation

/// Open-addressing hash map from byte strings to `Int`, with every key stored once in one arena.
///
/// Lookups take a pointer and a length, so the encoder never builds a `String` or `Array` per piece.
struct ByteKeyTable {
    private(set) var count = 0
    private var arena: [UInt8] = []
    private var keyStart: [UInt32] = []
    private var keyLength: [UInt32] = []
    private var values: [Int] = []
    private var slots: [Int32]  // entry index, -1 = empty
    private var slotHash: [UInt32]
    private var mask: Int

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        slotHash = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    var arenaBytes: Int { arena.count }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }

    /// The value stored for the key, or -1.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        let h = Self.hash(p, n)
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var slot = Int(truncatingIfNeeded: h) & mask
        return arena.withUnsafeBufferPointer { a in
            while true {
                let e = Int(slots[slot])
                if e < 0 { return -1 }
                if slotHash[slot] == tag && Int(keyLength[e]) == n
                    && (n == 0 || memcmp(a.baseAddress! + Int(keyStart[e]), p, n) == 0) {
                    return values[e]
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func lookup(_ bytes: [UInt8]) -> Int {
        lookup(bytes[...])
    }

    func lookup(_ bytes: ArraySlice<UInt8>) -> Int {
        var zero: UInt8 = 0
        return bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return lookup(&zero, 0) }
            return lookup(base, b.count)
        }
    }

    /// Inserts or overwrites.
    mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int, value: Int) {
        if (count + 1) * 2 > slots.count { grow() }
        let h = Self.hash(p, n)
        let tag = UInt32(truncatingIfNeeded: h >> 32)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[slot])
            if e < 0 { break }
            if slotHash[slot] == tag && Int(keyLength[e]) == n {
                let same = arena.withUnsafeBufferPointer { a in
                    n == 0 || memcmp(a.baseAddress! + Int(keyStart[e]), p, n) == 0
                }
                if same {
                    values[e] = value
                    return
                }
            }
            slot = (slot + 1) & mask
        }
        keyStart.append(UInt32(truncatingIfNeeded: arena.count))
        keyLength.append(UInt32(truncatingIfNeeded: n))
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        values.append(value)
        slots[slot] = Int32(truncatingIfNeeded: count)
        slotHash[slot] = tag
        count += 1
    }

    mutating func insert(_ bytes: [UInt8], value: Int) {
        var zero: UInt8 = 0
        bytes.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { insert(base, b.count, value: value) } else { insert(&zero, 0, value: value) }
        }
    }

    mutating func removeAll() {
        count = 0
        arena.removeAll(keepingCapacity: true)
        keyStart.removeAll(keepingCapacity: true)
        keyLength.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        slotHash = [UInt32](repeating: 0, count: size)
        mask = size - 1
        arena.withUnsafeBufferPointer { a in
            for e in 0..<count {
                let h = Self.hash(a.baseAddress! + Int(keyStart[e]), Int(keyLength[e]))
                var slot = Int(truncatingIfNeeded: h) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(e)
                slotHash[slot] = UInt32(truncatingIfNeeded: h >> 32)
            }
        }
    }
}
