import Foundation
import PhiJSON

/// Every JSON parse and dump of the tool path in one place: PhiJSON's strict parser reads, JSONSerialization
/// writes (compact, keys sorted).
enum ToolJSON {
    enum Failure: Error, CustomStringConvertible {
        case invalid(String)
        var description: String { if case .invalid(let m) = self { return m }; return "" }
    }

    /// Parses any JSON value (fragments allowed); nil when `text` is not valid JSON.
    static func value(_ text: String) -> Any? {
        try? FoundationJSON.parse(Data(text.utf8))
    }

    /// Whether `text` is one valid JSON value.
    static func isValid(_ text: String) -> Bool { value(text) != nil }

    /// Compact JSON text of a parsed value, keys sorted.
    static func text(_ value: Any) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed,
                                                                                       .withoutEscapingSlashes]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The string value of a JSON string literal (`"a\"b"` → `a"b`).
    static func string(literal: String) -> String? { value(literal) as? String }

    /// The function definitions of a tool list (Phi's or OpenAI's entry shape).
    static func functionDefinitions(in json: String) throws -> [FunctionDefinition] {
        guard let list = value(json) as? [Any] else { throw Failure.invalid("tools: expected a JSON list of tool definitions") }
        return try list.enumerated().map { i, entry in
            guard var object = entry as? [String: Any] else { throw Failure.invalid("tools[\(i)]: expected an object") }
            if let function = object["function"] as? [String: Any] { object = function }
            guard let name = object["name"] as? String, !name.isEmpty else {
                throw Failure.invalid("tools[\(i)]: a function definition needs a \"name\" string")
            }
            let description = object["description"] as? String
            let parameters = object["parameters"].flatMap(text)
            return FunctionDefinition(name: name, description: description, parameters: parameters)
        }
    }

    /// A call object's `name` (string; in OpenAI's shape, `function.name`) when `object` is valid JSON text of an object, else nil.
    static func callName(inObject object: String) -> String? {
        guard let o = value(object) as? [String: Any] else { return nil }
        if let name = o["name"] as? String { return name }
        return (o["function"] as? [String: Any])?["name"] as? String
    }
}
