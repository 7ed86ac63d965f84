import Foundation
import PhiMedia
import PhiModels
import PhiNN
import PhiTokenizer

/// The one way from messages to model input, used by the CLI, the library and the server: messages (text,
/// images, audio, tool calls, tool results) and tools → token ids + the conditioning a multimodal prompt needs.
///
/// Steps: lay out the messages (media slots, tool scaffolding), check the limits, tokenize with the model's chat
/// format (or as raw text), append the prefill, check the slots, then encode each image and clip and splice its
/// features over its expanded slot. Images select the vision LoRA; audio alone the speech LoRA and projector;
/// both together the vision LoRA and the vision audio projector (reference §2).
public struct PromptBuilder: Sendable {
    public let model: LoadedModel

    public init(model: LoadedModel) {
        self.model = model
    }

    /// Builds a prompt. `tools` go in the system turn (one is added when there is none). `progress` reports
    /// long work (image and audio encoding).
    public func build(_ messages: [PromptMessage], tools: ToolList? = nil, options: PromptOptions = PromptOptions(),
                      progress: ((String) -> Void)? = nil) throws -> PreparedPrompt {
        let layout = try layOut(messages, tools: tools, options: options)
        try check(layout, limits: options.limits)
        var ids = tokenize(layout, options: options)
        ids += try prefillTokens(options.prefill)
        try checkSlots(ids, layout)
        guard let mm = model.multimodal, !layout.images.isEmpty || !layout.audios.isEmpty else {
            return PreparedPrompt(tokens: ids)
        }
        let mode: Phi4MMModel.InputMode = layout.audios.isEmpty ? .vision : layout.images.isEmpty ? .speech : .visionSpeech
        let images = try encodeImages(layout.images, model: mm, limits: options.limits, progress: progress)
        let audios = try encodeAudios(layout.audios, model: mm, mode: mode, limits: options.limits, progress: progress)
        return try splice(ids, images: images, audios: audios, model: mm, mode: mode)
    }

    /// Messages as a chat format takes them, with the media in slot order.
    struct Layout {
        var messages: [ChatMessage] = []
        var images: [ImageSource] = []
        var audios: [AudioSource] = []
        /// A placeholder/media mismatch found while laying out, reported after the count limits.
        var mismatch: MultimodalError?
    }

    /// Lays out messages: each media part becomes a slot (or, with `textPlaceholders`, fills the slots written
    /// in the message's text), roles map to the format's tags, tools join the system turn.
    func layOut(_ messages: [PromptMessage], tools: ToolList?, options: PromptOptions) throws -> Layout {
        var layout = Layout()
        let multimodal = model.mediaPlaceholders != nil
        let raw = options.mode != .chat
        for message in messages {
            var withMedia: [MediaPlaceholders.Segment] = [], textOnly: [MediaPlaceholders.Segment] = []
            var images: [ImageSource] = [], audios: [AudioSource] = []
            var written = (images: 0, audios: 0)
            for part in message.content {
                switch part {
                case .text(let t):
                    let segments = multimodal && options.textPlaceholders ? MediaPlaceholders.split(t) : t.isEmpty ? [] : [.text(t)]
                    for case .placeholder(let k) in segments { if k == .image { written.images += 1 } else { written.audios += 1 } }
                    withMedia += segments
                    textOnly += segments
                case .image(let source):
                    images.append(source)
                    withMedia.append(.placeholder(.image))
                case .audio(let source):
                    audios.append(source)
                    withMedia.append(.placeholder(.audio))
                }
            }
            guard multimodal || (images.isEmpty && audios.isEmpty) else {
                throw MultimodalError.notMultimodal(images.isEmpty ? "audio" : "images")
            }
            var parts = withMedia
            if options.textPlaceholders && multimodal && (raw || written.images + written.audios > 0) {
                // Media fill the slots written in the text, in order.
                parts = textOnly
                if layout.mismatch == nil {
                    if written.images != images.count {
                        layout.mismatch = .placeholderMismatch(kind: "image", placeholders: written.images, given: images.count)
                    } else if written.audios != audios.count {
                        layout.mismatch = .placeholderMismatch(kind: "audio", placeholders: written.audios, given: audios.count)
                    }
                }
            }
            layout.images += images
            layout.audios += audios
            layout.messages.append(ChatMessage(role: tag(message.role), parts: parts, toolCalls: message.toolCalls))
        }
        if let tools {
            if let i = layout.messages.firstIndex(where: { $0.role == "system" }) {
                layout.messages[i].tools = tools.json
            } else {
                layout.messages.insert(ChatMessage(role: "system", content: "", tools: tools.json), at: 0)
            }
        }
        return layout
    }

    /// The chat format's role tag: a tool result takes the format's (Phi-4: `tool_response`, since the template's
    /// `tool` would open tool definitions).
    func tag(_ role: PromptMessage.Role) -> String {
        switch role {
        case .system: return "system"
        case .user: return "user"
        case .assistant: return "assistant"
        case .tool: return model.chatFormat.toolResultRole
        }
    }

    /// Count limits first (cheap, before any decoding), then the placeholder ids, then slot mismatches.
    func check(_ layout: Layout, limits: MediaLimits) throws {
        guard let placeholders = model.mediaPlaceholders else { return }
        try limits.image.checkImageCount(layout.images.count)
        guard layout.audios.count <= limits.maxAudios else {
            throw MultimodalError.invalid("\(layout.audios.count) audio clips were given; the limit is \(limits.maxAudios) per prompt")
        }
        let vocab = model.model.vocabularySize
        for id in [placeholders.imageTokenID, placeholders.audioTokenID] where id < 0 || id >= vocab {
            throw MultimodalError.invalid("the placeholder id \(id) is outside the vocabulary (\(vocab))")
        }
        if let mismatch = layout.mismatch { throw mismatch }
    }

    /// Token ids with one placeholder id per media slot.
    func tokenize(_ layout: Layout, options: PromptOptions) -> [Int] {
        guard case .raw(let parseSpecial) = options.mode else {
            return model.chatFormat.encode(layout.messages, addGenerationPrompt: options.addGenerationPrompt,
                                           media: model.mediaPlaceholders)
        }
        // Raw: the text as written, adjacent text merged so that it tokenizes as one string.
        var ids: [Int] = [], pending = ""
        func flush() {
            if !pending.isEmpty { ids += model.tokenizer.encode(pending, parseSpecial: parseSpecial) }
            pending = ""
        }
        for part in layout.messages.flatMap(\.parts) {
            switch part {
            case .text(let t): pending += t
            case .placeholder(let kind):
                flush()
                if let p = model.mediaPlaceholders { ids.append(kind == .image ? p.imageTokenID : p.audioTokenID) }
            }
        }
        flush()
        return ids
    }

    /// The prefill's ids: `<|tool_call|>` is the one special id it may hold; its text is plain text.
    func prefillTokens(_ prefill: AssistantPrefill?) throws -> [Int] {
        switch prefill {
        case nil: return []
        case .text(let t): return model.tokenizer.encode(t)
        case .toolCall:
            guard let open = model.toolCallTokenID else {
                throw MultimodalError.invalid("this model's vocabulary has no <|tool_call|> token")
            }
            let text = prefill?.toolCallText ?? ""
            return [open] + (text.isEmpty ? [] : model.tokenizer.encode(text))
        }
    }

    /// Every placeholder id in the ids has its media, and every medium its placeholder (raw text may name
    /// placeholder tokens directly).
    func checkSlots(_ ids: [Int], _ layout: Layout) throws {
        guard let p = model.mediaPlaceholders else { return }
        let imageSlots = ids.filter { $0 == p.imageTokenID }.count
        let audioSlots = ids.filter { $0 == p.audioTokenID }.count
        guard imageSlots == layout.images.count else {
            throw MultimodalError.placeholderMismatch(kind: "image", placeholders: imageSlots, given: layout.images.count)
        }
        guard audioSlots == layout.audios.count else {
            throw MultimodalError.placeholderMismatch(kind: "audio", placeholders: audioSlots, given: layout.audios.count)
        }
    }
}
