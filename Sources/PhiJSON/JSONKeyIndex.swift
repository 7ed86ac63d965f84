import Foundation

/// Finds members by key bytes and finds duplicate keys, for objects of any size.
///
/// Small objects (nearly every config object) are searched linearly: nothing to allocate or hash. Larger ones
/// keep one sorted array of entries `hash tag (top 40 bits) | member index (low 24 bits)`: the parser appends an
/// entry per key as it reads (sequential writes), and `seal()` radix-sorts them once at the end of the object,
/// which brings equal keys together. (A hash table would make one cache-missing random access per key, the
/// biggest cost of parsing a 200k-entry vocabulary.) The hash is seeded per process, and a group of keys that
/// share a tag is checked by sorting it, so even keys built to collide cost O(n log n), never O(n²).
struct JSONKeyIndex: Sendable {
    private var entries: [UInt64] = []
    static let linearLimit = 8
    /// The member index has 24 bits; the parser refuses larger objects.
    static let maxMembers = (1 << 24) - 1
    private static let tagMask: UInt64 = ~UInt64(maxMembers)
    private static let seed = UInt64.random(in: .min ... .max)

    /// A fast keyed hash (multiply–xorshift over 8-byte words, seeded per process), top 40 bits kept.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let k: UInt64 = 0xFF51_AFD7_ED55_8CCD
        let n = bytes.count
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        while n - i >= 8 {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
            h ^= h >> 29
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* k
            h ^= h >> 29
        }
        h = (h ^ (h >> 32)) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h & tagMask
    }

    @inline(__always)
    static func equal(_ key: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var k = key
        return k.withUTF8 { u in
            guard u.count == bytes.count else { return false }
            guard let a = u.baseAddress, let b = bytes.baseAddress else { return true }  // both empty
            return memcmp(a, b, u.count) == 0
        }
    }

    @inline(__always)
    static func equal(_ a: String, _ b: String) -> Bool {
        var k = b
        return k.withUTF8 { equal(a, UnsafeRawBufferPointer($0)) }
    }

    /// Adds `bytes` as member `position` (`keys[0..<position]` are the members already added). Returns the index
    /// of an earlier member with the same key when the object is small enough to tell at once; for larger objects
    /// duplicates are reported by `seal()`.
    mutating func add(_ bytes: UnsafeRawBufferPointer, at position: Int, keys: [String]) -> Int? {
        if position < Self.linearLimit {
            for i in 0..<position where Self.equal(keys[i], bytes) { return i }
            return nil
        }
        if entries.isEmpty {
            // The object just outgrew linear search: hash the members so far.
            entries.reserveCapacity(64)
            for i in 0..<position {
                var k = keys[i]
                entries.append(k.withUTF8 { Self.hash(UnsafeRawBufferPointer($0)) } | UInt64(i))
            }
        }
        entries.append(Self.hash(bytes) | UInt64(position))
        return nil
    }

    /// Sorts the entries; returns the later of two members with the same key, if any.
    mutating func seal(keys: [String]) -> Int? {
        guard entries.count > 1 else { return nil }
        Self.radixSortByTag(&entries)
        var duplicate: Int?
        var start = 0
        while start < entries.count {
            let tag = entries[start] & Self.tagMask
            var end = start + 1
            while end < entries.count, entries[end] & Self.tagMask == tag { end += 1 }
            if end - start > 1, let d = Self.duplicate(in: entries[start..<end], keys: keys) {
                duplicate = min(duplicate ?? .max, d)
            }
            start = end
        }
        return duplicate
    }

    /// Members sharing a tag (almost always none or two): sorted by key bytes, equal keys end up adjacent.
    private static func duplicate(in group: ArraySlice<UInt64>, keys: [String]) -> Int? {
        let members = group.map { Int(truncatingIfNeeded: $0 & ~tagMask) }.sorted {
            keys[$0].utf8.lexicographicallyPrecedes(keys[$1].utf8) || (keys[$0].utf8.elementsEqual(keys[$1].utf8) && $0 < $1)
        }
        var found: Int?
        for (a, b) in zip(members, members.dropFirst()) where keys[a].utf8.elementsEqual(keys[b].utf8) {
            found = min(found ?? .max, b)
        }
        return found
    }

    func find(_ bytes: UnsafeRawBufferPointer, keys: [String]) -> Int? {
        if entries.isEmpty {
            for i in keys.indices where Self.equal(keys[i], bytes) { return i }
            return nil
        }
        let t = Self.hash(bytes)
        // First entry whose tag is >= t.
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid] & Self.tagMask < t { lo = mid + 1 } else { hi = mid }
        }
        while lo < entries.count, entries[lo] & Self.tagMask == t {
            let i = Int(truncatingIfNeeded: entries[lo] & ~Self.tagMask)
            if Self.equal(keys[i], bytes) { return i }
            lo += 1
        }
        return nil
    }

    /// LSD radix sort on the 40 tag bits: no comparisons, four sequential passes of 10 bits (wider digits scatter
    /// to too many places at once and run slower).
    private static func radixSortByTag(_ a: inout [UInt64]) {
        if a.count <= 256 { a.sort(); return }
        let bits: UInt64 = 10
        let radix = 1 << Int(bits)
        let digitMask = UInt64(radix - 1)
        var tmp = [UInt64](repeating: 0, count: a.count)
        var counts = [Int](repeating: 0, count: radix + 1)
        var shift: UInt64 = 24
        while shift < 64 {
            a.withUnsafeBufferPointer { src in
                tmp.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { c in
                        for d in c.indices { c[d] = 0 }
                        for v in src { c[Int(truncatingIfNeeded: (v >> shift) & digitMask) + 1] += 1 }
                        for d in 0..<radix { c[d + 1] += c[d] }
                        for v in src {
                            let d = Int(truncatingIfNeeded: (v >> shift) & digitMask)
                            dst[c[d]] = v
                            c[d] += 1
                        }
                    }
                }
            }
            swap(&a, &tmp)
            shift += bits
        }
    }
}
