/// A JSON value as parsed by `JSONParser`.
///
/// Numbers keep their source text, so integers beyond 2^53 (file offsets, element counts) are never rounded
/// through `Double` and `1`, `1.0` and `true` stay three different things: `true` is only ever a `.bool`, and a
/// number is only ever a `.number`. Ask for `intValue` / `doubleValue`, or decode with `PhiJSONDecoder`.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text as it appears in the source (already checked against the JSON grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The value as an `Int` when it is an integer literal (no fraction, no exponent) that fits.
    public var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        return JSONNumber.integer(fromLiteral: text)
    }

    /// The value as a `Double` when it is a number whose value is finite as a `Double`.
    public var doubleValue: Double? {
        guard case .number(let text) = self, let d = Double(text), d.isFinite else { return nil }
        return d
    }

    public var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    public var boolValue: Bool? {
        guard case .bool(let b) = self else { return nil }
        return b
    }

    public var arrayValue: [JSONValue]? {
        guard case .array(let a) = self else { return nil }
        return a
    }

    public var objectValue: JSONObject? {
        guard case .object(let o) = self else { return nil }
        return o
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member `key` when this is an object, else nil.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value in a few characters, for error messages ("found 1.5", "found \"abc…\"").
    public var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let t): return t.count > 40 ? String(t.prefix(40)) + "…" : t
        case .string(let s): return JSONText.quote(s.count > 40 ? String(s.prefix(40)) + "…" : s)
        case .array(let a): return "an array of \(a.count)"
        case .object(let o): return "an object of \(o.count) members"
        }
    }
}
