/// A function call made by the assistant: what the model emitted between `<|tool_call|>` and `<|/tool_call|>`
/// (or what a client sends back in an assistant message), one entry per call.
public struct ToolCall: Sendable, Equatable, Codable {
    /// The call's id (OpenAI `tool_calls[i].id`, e.g. `call_…`); the Phi-4 format does not render it.
    public var id: String
    /// The function's name.
    public var name: String
    /// The arguments as JSON text (normally an object). Kept as text so a call the model made renders back
    /// exactly as it was generated, and a client's `arguments` string is passed through as given.
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}
