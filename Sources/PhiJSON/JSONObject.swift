import Foundation

/// A JSON object: members in source order, keys unique byte for byte (the parser rejects duplicates).
///
/// Lookup compares keys as UTF-8 bytes, not with `String ==`: Swift strings compare by canonical equivalence,
/// so `"é"` (U+00E9) and `"e\u{301}"` would be one key to a `[String: …]` dictionary but are two JSON keys.
public struct JSONObject: Sendable, Equatable {
    /// Keys in the order they appear in the source.
    public let keys: [String]
    /// Values in the same order as `keys`.
    public let values: [JSONValue]
    private let index: JSONKeyIndex

    /// An object from key/value pairs; when a key repeats, lookup finds its first occurrence.
    public init(_ members: [(String, JSONValue)]) {
        let keys = members.map(\.0)
        var index = JSONKeyIndex(capacity: keys.count)
        for i in keys.indices {
            var k = keys[i]
            _ = k.withUTF8 { index.insert(UnsafeRawBufferPointer($0), at: i, keys: keys) }
        }
        self.keys = keys
        self.values = members.map(\.1)
        self.index = index
    }

    /// Built by the parser, which has already indexed the keys (and rejected duplicates) as it read them.
    init(keys: [String], values: [JSONValue], index: JSONKeyIndex) {
        self.keys = keys
        self.values = values
        self.index = index
    }

    public subscript(key: String) -> JSONValue? {
        var k = key
        let i = k.withUTF8 { index.find(UnsafeRawBufferPointer($0), keys: keys) }
        return i.map { values[$0] }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Members in source order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.values == b.values && a.keys.count == b.keys.count
            && zip(a.keys, b.keys).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}

/// An open-addressing hash table from a key's UTF-8 bytes to its member index, grown as members are added.
///
/// Hashing uses the standard library's per-process-seeded `Hasher`, so a hostile file cannot pick keys that all
/// collide and make duplicate detection quadratic. Small objects (nearly every config object) are searched
/// linearly: no table to allocate and nothing to hash.
struct JSONKeyIndex: Sendable {
    /// Slot → member index + 1 (0 = empty); empty while the object has at most `linearLimit` members.
    private var slots: [Int32] = []
    /// Each member's full hash, so growing the table never rehashes key bytes.
    private var memberHashes: [Int] = []
    private var mask = 0
    static let linearLimit = 8

    init(capacity: Int = 0) {
        if capacity > Self.linearLimit { memberHashes.reserveCapacity(capacity) }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h = Hasher()
        h.combine(bytes: bytes)
        return h.finalize()
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

    /// Adds `bytes` as member `position` (`keys[0..<position]` are the members already added) and returns nil,
    /// or returns the index of an earlier member with the same key and adds nothing.
    mutating func insert(_ bytes: UnsafeRawBufferPointer, at position: Int, keys: [String]) -> Int? {
        if position < Self.linearLimit {
            for i in 0..<position where Self.equal(keys[i], bytes) { return i }
            return nil
        }
        if slots.isEmpty {
            // The object just outgrew linear search: hash the members so far.
            memberHashes.removeAll(keepingCapacity: true)
            for i in 0..<position {
                var k = keys[i]
                memberHashes.append(k.withUTF8 { Self.hash(UnsafeRawBufferPointer($0)) })
            }
            rebuild(size: 64)
        }
        let h = Self.hash(bytes)
        if let i = lookup(h, bytes, keys: keys) { return i }
        memberHashes.append(h)
        if memberHashes.count * 2 > slots.count { rebuild(size: slots.count * 2) } else { place(h, member: position) }
        return nil
    }

    func find(_ bytes: UnsafeRawBufferPointer, keys: [String]) -> Int? {
        if slots.isEmpty {
            for i in keys.indices where Self.equal(keys[i], bytes) { return i }
            return nil
        }
        return lookup(Self.hash(bytes), bytes, keys: keys)
    }

    private func lookup(_ h: Int, _ bytes: UnsafeRawBufferPointer, keys: [String]) -> Int? {
        var s = h & mask
        while slots[s] != 0 {
            let i = Int(slots[s]) - 1
            if memberHashes[i] == h && Self.equal(keys[i], bytes) { return i }
            s = (s + 1) & mask
        }
        return nil
    }

    private mutating func place(_ h: Int, member: Int) {
        var s = h & mask
        while slots[s] != 0 { s = (s + 1) & mask }
        slots[s] = Int32(truncatingIfNeeded: member + 1)
    }

    private mutating func rebuild(size: Int) {
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        for (i, h) in memberHashes.enumerated() { place(h, member: i) }
    }
}
