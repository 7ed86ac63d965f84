/// Turns a conversation into token ids. Only the scaffolding inserts special ids; message text is
/// encoded as plain text, so user content can never inject a control token.
public protocol ChatFormat: Sendable {
    func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> [Int]
    /// As `encode`, with each `<|image_N|>` / `<|audio_N|>` in message text becoming one placeholder id.
    /// Formats without multimodal support leave them as text.
    func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool, media: MediaPlaceholders?) -> [Int]
    /// The role tag of a tool's result (`tool`; Phi-4: `tool_response`, since its `<|tool|>` opens tool definitions).
    var toolResultRole: String { get }
}

extension ChatFormat {
    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool, media: MediaPlaceholders?) -> [Int] {
        encode(messages, addGenerationPrompt: addGenerationPrompt)
    }

    public var toolResultRole: String { "tool" }
}

extension ChatFormat {
    /// The conversation followed by the assistant's turn opening, ready for generation.
    public func encode(_ messages: [ChatMessage]) -> [Int] { encode(messages, addGenerationPrompt: true) }
}

extension PhiChatFormat: ChatFormat {
    public var toolResultRole: String { "tool_response" }
}

/// ChatML (`<|im_start|>role\ncontent<|im_end|>\n`), as SmolLM2, Qwen and many GGUFs use, with the
/// template's default system message when the conversation has none.
public struct ChatMLFormat: ChatFormat {
    let tokenizer: Tokenizer
    let start: Int
    let end: Int
    public let defaultSystem: String?

    public init(tokenizer: Tokenizer, defaultSystem: String? = nil) throws {
        guard let s = tokenizer.specialTokenID("<|im_start|>"), let e = tokenizer.specialTokenID("<|im_end|>") else {
            throw TokenizerError.missingSpecialToken("<|im_start|>/<|im_end|>")
        }
        self.tokenizer = tokenizer
        start = s
        end = e
        self.defaultSystem = defaultSystem
    }

    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> [Int] {
        var ids: [Int] = []
        func turn(_ role: String, _ content: String) {
            ids.append(start)
            ids += tokenizer.encode(role + "\n" + content)
            ids.append(end)
            ids += tokenizer.encode("\n")
        }
        if let d = defaultSystem, messages.first?.role != "system" { turn("system", d) }
        for m in messages { turn(m.role, m.content) }
        if addGenerationPrompt {
            ids.append(start)
            ids += tokenizer.encode("assistant\n")
        }
        return ids
    }
}

public enum ChatFormats {
    /// Picks the format a chat template (tokenizer_config's or a GGUF's) describes.
    public static func detect(tokenizer: Tokenizer, template: String?) throws -> any ChatFormat {
        let t = template ?? ""
        if t.contains("<|im_start|>") || (template == nil && tokenizer.specialTokenID("<|im_start|>") != nil) {
            return try ChatMLFormat(tokenizer: tokenizer, defaultSystem: defaultSystem(inChatML: t))
        }
        if Phi3ChatFormat.describes(template: template, tokenizer: tokenizer) { return try Phi3ChatFormat(tokenizer: tokenizer, template: template) }
        return try PhiChatFormat(tokenizer: tokenizer)
    }

    /// The literal system text a ChatML template inserts when the first message is not a system one.
    static func defaultSystem(inChatML template: String) -> String? {
        guard template.contains("messages[0]['role'] != 'system'") else { return nil }
        let marker = "<|im_start|>system\n"
        guard let r = template.range(of: marker), let e = template.range(of: "<|im_end|>", range: r.upperBound..<template.endIndex) else {
            return nil
        }
        return String(template[r.upperBound..<e.lowerBound])
    }
}
