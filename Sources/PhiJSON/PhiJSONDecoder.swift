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
