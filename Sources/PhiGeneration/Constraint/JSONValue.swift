import Foundation
import PhiJSON

/// A parsed JSON value that keeps object members in document order (a schema's property order is the order the
/// output lists them in; Foundation's dictionaries lose it).
indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's source text (so `1.0` and `1` stay distinct where it matters) and its value.
    case number(String, Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(_, let x), .number(_, let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let m) = self { return m.first { $0.0 == key }?.1 }
        return nil
    }

    var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    var intValue: Int? {
        if case .number(_, let d) = self, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }

    /// Compact JSON text (what a model writes for an `enum` / `const` value).
    var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let text, _): return text
        case .string(let s): return JSONValue.quote(s)
        case .array(let xs): return "[" + xs.map(\.serialized).joined(separator: ",") + "]"
        case .object(let m): return "{" + m.map { JSONValue.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String { JSONText.quote(s) }

    /// Strict parse of a whole document through PhiJSON, the project's one JSON parser (errors name the byte
    /// offset); object members keep their document order.
    static func parse(_ text: String) throws -> JSONValue {
        let parsed: PhiJSON.JSONValue
        do { parsed = try PhiJSON.JSONParser.parse(text) } catch {
            throw ConstraintError.invalid(path: "byte \(error.offset)", message: "JSON: \(error.message)")
        }
        return try JSONValue(parsed)
    }

    private init(_ v: PhiJSON.JSONValue) throws {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let text):
            guard let d = Double(text) else {
                throw ConstraintError.invalid(path: "number \(text.prefix(40))", message: "JSON: invalid number")
            }
            self = .number(text, d)
        case .string(let s): self = .string(s)
        case .array(let xs): self = .array(try xs.map(JSONValue.init))
        case .object(let o): self = .object(try o.members.map { ($0.0, try JSONValue($0.1)) })
        }
    }
}
