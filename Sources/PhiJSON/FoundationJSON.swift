import Foundation

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
    func number(_ literal: UnsafeRawBufferPointer, smallInteger: Int?, offset: Int) throws(JSONParseError) -> Any {
        if let smallInteger { return smallInteger }
        let text = String(decoding: literal, as: UTF8.self)
        if JSONNumber.isIntegerLiteral(text), let v = Int(text) { return v }
        guard let d = Double(text), d.isFinite else {
            throw JSONParseError(offset: offset, message: "number \(text.prefix(40)) is out of range")
        }
        return d
    }
    func string(_ s: String) -> Any { s }
    func array(_ items: [Any]) -> Any { items }
    func object(keys: [String], values: [Any], index: JSONKeyIndex) -> Any {
        if keys.count > FoundationJSON.dictionaryLimit { return JSONMembers(keys: keys, values: values) }
        // Keys are distinct byte for byte, but `String ==` merges canonically equivalent ones ("é" / "e\u{301}"):
        // keep the first rather than trap.
        return Dictionary(zip(keys, values), uniquingKeysWith: { first, _ in first })
    }
}
