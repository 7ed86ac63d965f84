import Foundation

/// A large JSON object in file order (a 200k-entry vocabulary is much cheaper to build and walk as a list).
public struct JSONMembers {
    public var members: [(String, Any)]
}

/// `JSONParser`'s grammar and checks, building Foundation-style values instead of a `JSONValue` tree: the fast path
/// for tokenizer.json (7 MB, a 200k-entry vocabulary and as many merges), whose loader walks `[String: Any]`.
///
/// Values are Swift-native, never `NSNumber`: `[String: Any]` (or `JSONMembers` above `dictionaryLimit`
/// members), `[Any]`, `String`, `Int` (integer literals that fit), `Double` (other numbers), `Bool`, `NSNull`.
/// So `as? Bool` never matches a number and `as? Int` never matches `true`, on Linux as on macOS.
public enum FoundationJSON {
    /// Objects with more members than this stay an ordered `JSONMembers` list.
    public static let dictionaryLimit = 4096

    public static func parse(_ data: Data, limits: JSONParser.Limits = .init()) throws(JSONParseError) -> Any {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> Any in try JSONParser.run(raw, limits: limits, builder: AnyBuilder()) }
        }
        return try result.get()
    }
}

struct AnyBuilder: JSONTreeBuilder {
    func null() -> Any { NSNull() }
    func bool(_ b: Bool) -> Any { b }
    func number(_ literal: UnsafeRawBufferPointer, integral: Bool, offset: Int) throws(JSONParseError) -> Any {
        if integral && literal.count <= 18 {
            // At most 17 digits and a sign: cannot overflow.
            var value = 0
            var negative = false
            for c in literal {
                if c == UInt8(ascii: "-") { negative = true } else { value = value * 10 + Int(c &- UInt8(ascii: "0")) }
            }
            return negative ? -value : value
        }
        let text = String(decoding: literal, as: UTF8.self)
        if integral, let v = Int(text) { return v }
        guard let d = Double(text), d.isFinite else {
            throw JSONParseError(offset: offset, message: "number \(text.prefix(40)) is out of range")
        }
        return d
    }
    func string(_ s: String) -> Any { s }
    func array(_ items: [Any]) -> Any { items }
    func object(keys: [String], values: [Any], index: JSONKeyIndex) -> Any {
        if keys.count > FoundationJSON.dictionaryLimit { return JSONMembers(members: Array(zip(keys, values))) }
        // Keys are distinct byte for byte, but `String ==` merges canonically equivalent ones ("é" / "e\u{301}"):
        // keep the first rather than trap.
        return Dictionary(zip(keys, values), uniquingKeysWith: { first, _ in first })
    }
}
