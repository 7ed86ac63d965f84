import Foundation
import PhiTokenizer

/// The tools offered to the model: the JSON list pasted verbatim into the system turn between `<|tool|>` and
/// `<|/tool|>` (Phi-4-mini's template pastes the string as is, key order and spacing included), with a typed
/// view of each function.
public struct ToolList: Sendable, Equatable {
    /// The exact text the template pastes.
    public let json: String
    public let functions: [FunctionDefinition]

    /// From JSON text as a user wrote it: a list whose entries are Phi's `{"name", "description", "parameters"}`
    /// or OpenAI's `{"type": "function", "function": {…}}`. The text is kept as given (trimmed).
    public init(json: String) throws {
        self.json = json.trimmingCharacters(in: .whitespacesAndNewlines)
        functions = try ToolJSON.functionDefinitions(in: self.json)
    }

    /// From typed definitions, rendered in the shape the model card shows:
    /// `[{"name": "f", "description": "…", "parameters": {…}}]` (Python `json.dumps` spacing, `parameters` text
    /// pasted as given).
    public init(functions: [FunctionDefinition]) {
        self.functions = functions
        json = "[" + functions.map { f in
            var s = "{\"name\": " + PhiChatFormat.jsonQuoted(f.name)
            if let d = f.description { s += ", \"description\": " + PhiChatFormat.jsonQuoted(d) }
            if let p = f.parameters { s += ", \"parameters\": " + p }
            return s + "}"
        }.joined(separator: ", ") + "]"
    }

    /// The definition named `name`.
    public func function(named name: String) -> FunctionDefinition? { functions.first { $0.name == name } }
}

/// One function a model may call.
public struct FunctionDefinition: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The parameters (a JSON schema, or Phi's `{param: {"description", "type"}}` map) as JSON text.
    public var parameters: String?

    public init(name: String, description: String? = nil, parameters: String? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}
