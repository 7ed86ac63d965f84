import Foundation

/// A JSON object: members in source order, keys unique byte for byte (the parser rejects duplicates).
///
/// Lookup compares keys as UTF-8 bytes, not with `String ==`: Swift strings compare by canonical equivalence,
/// so `"é"` (U+00E9) and `"e\u{301}"` would be one key to a `[String: …]` dictionary but are two JSON keys.
public struct JSONObject: Sendable, Equatable {
    /// One reference, so a `JSONValue` stays small (arrays of 200k values are common in tokenizer files).
    private final class Storage: Sendable {
        let keys: [String]
        let values: [JSONValue]
        let index: JSONKeyIndex
        init(keys: [String], values: [JSONValue], index: JSONKeyIndex) {
            self.keys = keys
            self.values = values
            self.index = index
        }
    }
    private let storage: Storage

    /// Keys in the order they appear in the source.
    public var keys: [String] { storage.keys }
    /// Values in the same order as `keys`.
    public var values: [JSONValue] { storage.values }

    /// An object from key/value pairs; when a key repeats, lookup finds one of its occurrences.
    public init(_ members: [(String, JSONValue)]) {
        let keys = members.map(\.0)
        var index = JSONKeyIndex()
        for i in keys.indices {
            var k = keys[i]
            _ = k.withUTF8 { index.add(UnsafeRawBufferPointer($0), at: i, keys: keys) }
        }
        _ = index.seal(keys: keys)
        storage = Storage(keys: keys, values: members.map(\.1), index: index)
    }

    /// Built by the parser, which has already indexed the keys (and rejected duplicates) as it read them.
    init(keys: [String], values: [JSONValue], index: JSONKeyIndex) {
        storage = Storage(keys: keys, values: values, index: index)
    }

    public subscript(key: String) -> JSONValue? {
        var k = key
        let i = k.withUTF8 { storage.index.find(UnsafeRawBufferPointer($0), keys: storage.keys) }
        return i.map { storage.values[$0] }
    }

    public var count: Int { storage.keys.count }
    public var isEmpty: Bool { storage.keys.isEmpty }

    /// Members in source order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(storage.keys, storage.values) }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.storage === b.storage || (a.values == b.values && a.keys.count == b.keys.count
            && zip(a.keys, b.keys).allSatisfy { $0.utf8.elementsEqual($1.utf8) })
    }
}
