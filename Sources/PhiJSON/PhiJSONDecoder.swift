import Foundation

/// Decodes `Decodable` types from JSON read by `JSONParser`: a drop-in for Foundation's `JSONDecoder`
/// (`PhiJSONDecoder().decode(T.self, from: data)`) with the parser's strictness and exact numbers.
///
/// Number rules (the same for every field):
/// - `Bool` fields accept only `true`/`false`; numbers never decode as `Bool`, nor booleans as numbers.
/// - Integer fields accept any number literal whose value is exactly an integer in the type's range: `1`, and
///   also `1.0` or `1e3` (HF configs are written by Python, which sometimes prints an integer-valued float).
///   `1.5`, `1e400` or `2^63` in an `Int` field is an error, never a rounded or clamped value.
/// - `Double` fields accept any number whose value is finite as a `Double` (`1e400` is an error).
/// - `Float` fields read the literal as a `Double` and round that to `Float`, as Python (float64) and then
///   torch (float32) do, so parity with transformers holds bit for bit.
///
/// Errors are `DecodingError`s with the coding path; `PhiJSONDecoder.message(for:)` renders them in one line.
public struct PhiJSONDecoder {
    public var limits: JSONParser.Limits
    public var userInfo: [CodingUserInfoKey: Any] = [:]

    public init(limits: JSONParser.Limits = .init()) {
        self.limits = limits
    }

    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(data, limits: limits)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not valid JSON: \(error)",
                                                    underlyingError: error))
        }
        return try decode(type, from: value)
    }

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoder(value: value, codingPath: [], userInfo: userInfo).decodeValue(type)
    }

    /// One line for a decoding error: `'rope_scaling.long_factor[3]': expected a number, found "x"`.
    public static func message(for error: Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let c):
            return "missing '\(path(c.codingPath + [key]))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return c.codingPath.isEmpty ? c.debugDescription : "'\(path(c.codingPath))': \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// A coding path as dotted keys and [indices]: `audio_processor.config.num_blocks`, `eos_token_id[1]`.
    public static func path(_ keys: [CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue {
                out += "[\(i)]"
            } else {
                out += out.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return out
    }
}

/// The coding key of an array element.
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

/// A coding key for any member name (for `superDecoder` and `JSONValue`'s fallback decoding).
struct JSONAnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self, let v = value as? T { return v }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw DecodingError.typeMismatch([String: Any].self, .init(
                codingPath: codingPath, debugDescription: "expected an object, found \(value.shortDescription)"))
        }
        return KeyedDecodingContainer(JSONKeyedContainer<Key>(object: object, decoder: self))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else {
            throw DecodingError.typeMismatch([Any].self, .init(
                codingPath: codingPath, debugDescription: "expected an array, found \(value.shortDescription)"))
        }
        return JSONUnkeyedContainer(items: items, decoder: self)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { JSONSingleValueContainer(decoder: self) }

    func child(_ value: JSONValue, _ key: CodingKey) -> JSONValueDecoder {
        JSONValueDecoder(value: value, codingPath: codingPath + [key], userInfo: userInfo)
    }
}
