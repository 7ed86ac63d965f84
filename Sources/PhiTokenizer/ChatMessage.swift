/// One chat turn as a chat format renders it: a role tag, the content (text and media slots), and for the
/// Phi-4 format the tool definitions of a system turn and the tool calls of an assistant turn.
///
/// `role` is the template's tag name: `<|role|>` opens the turn. The published Phi-4 template renders role
/// `"tool"` as `<|tool|>`, the token that also opens tool definitions; a tool result should use role
/// `"tool_response"` instead (PhiGeneration's `PromptBuilder` does).
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    /// The content in order: text, and media slots that a multimodal format turns into one placeholder id each.
    /// Text is always plain text: writing `<|image_1|>` in it makes no slot.
    public var parts: [MediaPlaceholders.Segment]
    /// A JSON list of tool definitions, used only on a system message; pasted verbatim between `<|tool|>`
    /// and `<|/tool|>` by the Phi-4 template.
    public var tools: String?
    /// Calls made by an assistant turn, rendered after its content as
    /// `<|tool_call|>[{"name": …, "arguments": …}]<|/tool_call|>`.
    public var toolCalls: [ToolCall]

    public init(role: String, content: String, tools: String? = nil, toolCalls: [ToolCall] = []) {
        self.role = role
        self.parts = content.isEmpty ? [] : [.text(content)]
        self.tools = tools
        self.toolCalls = toolCalls
    }

    public init(role: String, parts: [MediaPlaceholders.Segment], tools: String? = nil, toolCalls: [ToolCall] = []) {
        self.role = role
        self.parts = parts
        self.tools = tools
        self.toolCalls = toolCalls
    }

    /// The content as text; a media slot reads `<|image_k|>` / `<|audio_k|>` (k counted within the message),
    /// as in the template's text. Setting it replaces the parts with this text.
    public var content: String {
        get {
            var s = "", images = 0, audios = 0
            for part in parts {
                switch part {
                case .text(let t): s += t
                case .placeholder(.image): images += 1; s += "<|image_\(images)|>"
                case .placeholder(.audio): audios += 1; s += "<|audio_\(audios)|>"
                }
            }
            return s
        }
        set { parts = newValue.isEmpty ? [] : [.text(newValue)] }
    }
}

extension ChatMessage: Codable {
    enum CodingKeys: String, CodingKey { case role, content, tools, toolCalls = "tool_calls" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(role: try c.decode(String.self, forKey: .role), content: try c.decode(String.self, forKey: .content),
                  tools: try c.decodeIfPresent(String.self, forKey: .tools),
                  toolCalls: try c.decodeIfPresent([ToolCall].self, forKey: .toolCalls) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content)
        try c.encodeIfPresent(tools, forKey: .tools)
        if !toolCalls.isEmpty { try c.encode(toolCalls, forKey: .toolCalls) }
    }
}
