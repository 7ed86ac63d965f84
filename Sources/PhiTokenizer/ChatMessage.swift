/// One chat turn. `tools` (a JSON string, used only on a system message) is spliced verbatim between
/// `<|tool|>` and `<|/tool|>` by the Phi-4 template.
public struct ChatMessage: Sendable, Codable, Equatable {
    public var role: String
    public var content: String
    public var tools: String?

    public init(role: String, content: String, tools: String? = nil) {
        self.role = role
        self.content = content
        self.tools = tools
    }
}
