import PhiTokenizer

/// One message of a conversation, typed: who speaks, what they say (text, images, audio), and for tool use
/// the calls an assistant made or the call a tool result answers. `PromptBuilder` turns a list of them into
/// tokens; message text is always plain text (it can never become a control token or a media slot, unless
/// `PromptOptions.textPlaceholders` asks for `<|image_N|>` slots in text).
public struct PromptMessage: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        case system, user, assistant
        /// A tool's result, rendered `<|tool_response|>…<|end|>`.
        case tool
    }

    /// A piece of content, in order.
    public enum Part: Sendable {
        case text(String)
        /// An image (Phi-4-multimodal): one slot that expands to the image's tokens.
        case image(ImageSource)
        /// An audio clip (Phi-4-multimodal): one slot that expands to the clip's tokens.
        case audio(AudioSource)
    }

    public var role: Role
    public var content: [Part]
    /// Calls made by an assistant message (OpenAI `tool_calls`), rendered after its content.
    public var toolCalls: [ToolCall]
    /// For a tool message: the id of the call it answers (OpenAI `tool_call_id`). Not rendered by Phi-4's format.
    public var toolCallID: String?
    /// For a tool message: the function's name. Not rendered by Phi-4's format.
    public var name: String?

    public init(role: Role, content: [Part] = [], toolCalls: [ToolCall] = [], toolCallID: String? = nil, name: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    public static func system(_ text: String) -> PromptMessage { PromptMessage(role: .system, content: [.text(text)]) }
    public static func user(_ text: String) -> PromptMessage { PromptMessage(role: .user, content: [.text(text)]) }
    public static func user(_ parts: [Part]) -> PromptMessage { PromptMessage(role: .user, content: parts) }
    public static func assistant(_ text: String, toolCalls: [ToolCall] = []) -> PromptMessage {
        PromptMessage(role: .assistant, content: text.isEmpty ? [] : [.text(text)], toolCalls: toolCalls)
    }
    public static func tool(_ result: String, toolCallID: String? = nil, name: String? = nil) -> PromptMessage {
        PromptMessage(role: .tool, content: [.text(result)], toolCallID: toolCallID, name: name)
    }

    /// The text parts joined.
    public var text: String {
        content.reduce(into: "") { s, p in if case .text(let t) = p { s += t } }
    }

    /// A user message from a prompt that names its media by placeholder, as the CLI takes it: the images,
    /// then the audio clips, then the text. With `PromptOptions.textPlaceholders`, the k-th `<|image_N|>` in the
    /// text takes the k-th image (N is ignored, as in the original processor) and likewise for audio; a text
    /// without placeholders keeps the media first (chat mode).
    public static func user(_ text: String, images: [ImageSource], audios: [AudioSource] = []) -> PromptMessage {
        PromptMessage(role: .user, content: images.map(Part.image) + audios.map(Part.audio) + [.text(text)])
    }
}
