import PhiMedia
import PhiTokenizer

/// How `PromptBuilder` renders messages.
public struct PromptOptions: Sendable {
    public enum Mode: Sendable, Equatable {
        /// The model's chat template (roles, tools, tool calls).
        case chat
        /// The message text as written, concatenated, without scaffolding (`phi4 run --raw`,
        /// `/v1/completions`). With `parseSpecialTokens`, special-token text such as `<|end|>` becomes its id;
        /// without, it stays text.
        case raw(parseSpecialTokens: Bool)
    }

    public var mode: Mode
    /// End with the assistant's turn opening (chat mode), so that the model answers.
    public var addGenerationPrompt: Bool
    /// Whether `<|image_N|>` / `<|audio_N|>` written in a message's text are media slots that its image and
    /// audio parts fill in order (the CLI's prompt syntax). Off, text is only text (the server: a user cannot
    /// make a slot). In raw mode with this on, media bind only to written slots.
    public var textPlaceholders: Bool
    /// Text the assistant's answer starts with, after the generation prompt (e.g. a forced tool call).
    public var prefill: AssistantPrefill?
    public var limits: MediaLimits

    public init(mode: Mode = .chat, addGenerationPrompt: Bool = true, textPlaceholders: Bool = false,
                prefill: AssistantPrefill? = nil, limits: MediaLimits = MediaLimits()) {
        self.mode = mode
        self.addGenerationPrompt = addGenerationPrompt
        self.textPlaceholders = textPlaceholders
        self.prefill = prefill
        self.limits = limits
    }
}

/// The start of the assistant's answer, put after the generation prompt.
public enum AssistantPrefill: Sendable, Equatable {
    /// `<|tool_call|>` (the one special id), and with a name `[{"name": "NAME", "arguments":` after it, so the
    /// model must call a tool (that tool). Feed `toolCallText` to `ToolCallStreamParser` before the generated text.
    case toolCall(name: String?)
    /// Plain text (never special ids).
    case text(String)

    /// The text after `<|tool_call|>` that the prefill already holds (empty for `.toolCall(name: nil)` and `.text`).
    public var toolCallText: String {
        guard case .toolCall(let name?) = self else { return "" }
        return "[{\"name\": \(PhiChatFormat.jsonQuoted(name)), \"arguments\":"
    }
}

/// Limits on the media of one prompt.
public struct MediaLimits: Sendable {
    public var image: ImageLimits
    public var audio: AudioLimits
    /// Phi-4-multimodal's dynamic_hd: the most 448-pixel crops per image.
    public var maxCrops: Int
    /// Most audio clips per prompt.
    public var maxAudios: Int

    public init(image: ImageLimits = .default, audio: AudioLimits = .default, maxCrops: Int = 36, maxAudios: Int = 16) {
        self.image = image
        self.audio = audio
        self.maxCrops = maxCrops
        self.maxAudios = maxAudios
    }
}
