import Foundation
import PhiKit

/// Turns parsed OpenAI requests into engine requests with today's prompt API (`LoadedModel.chatFormat`,
/// `LoadedModel.prepare`). The one place that knows how messages become tokens; it goes away when the shared
/// `PromptBuilder` takes over (tool calls and tool results in the history need it: until then they are refused).
struct EngineBridge: Sendable {
    let model: LoadedModel
    let configuration: ServerConfiguration

    /// Decoded media of one request, in order of appearance.
    struct Media {
        var images: [Data] = []
        var audios: [Data] = []
        var isEmpty: Bool { images.isEmpty && audios.isEmpty }

        /// A digest of every byte, so a cached prefix computed with other media is never reused.
        var key: String? {
            guard !isEmpty else { return nil }
            var h1: UInt64 = 0xcbf2_9ce4_8422_2325, h2: UInt64 = 0x8422_2325_cbf2_9ce4
            for (k, d) in (images.map { ("i", $0) } + audios.map { ("a", $0) }) {
                for b in Array(k.utf8) + withUnsafeBytes(of: UInt64(d.count).littleEndian, Array.init) + [UInt8](d) {
                    h1 = (h1 ^ UInt64(b)) &* 0x100_0000_01b3
                    h2 = (h2 ^ UInt64(b)) &* 0x9E37_79B9_7F4A_7C15
                }
            }
            return String(h1, radix: 16) + String(h2, radix: 16)
        }
    }

    var mediaLimits: PromptMedia {
        PromptMedia(imageLimits: ImageLimits(maxImagesPerPrompt: configuration.maxImages),
                    audioLimits: AudioLimits(maxSeconds: configuration.maxAudioSeconds, maxBytes: configuration.maxBodyBytes))
    }

    /// The engine request for a chat prompt (the prompt is built on the engine's thread).
    func chatRequest(_ request: ChatCompletionRequest, media: Media, options: GenerationOptions) throws -> EngineRequest {
        for m in request.messages where !m.toolCalls.isEmpty || m.role == "tool" {
            throw APIError.invalid("tool calls and tool results in the conversation are not supported yet", param: "messages")
        }
        let withTools = !request.tools.isEmpty && request.toolChoice != .none
        let toolsJSON = withTools ? JSON.string(request.tools.map { $0.function }) : nil
        var messages: [ChatMessage] = []
        for m in request.messages {
            var text = ""
            var images = 0, audios = 0
            for p in m.parts {
                switch p {
                case .text(let t): text += t
                case .image: images += 1; text += "<|image_\(images)|>"
                case .audio: audios += 1; text += "<|audio_\(audios)|>"
                }
            }
            messages.append(ChatMessage(role: m.role, content: text))
        }
        if let tools = toolsJSON {
            if let i = messages.firstIndex(where: { $0.role == "system" }) {
                messages[i].tools = tools
            } else {
                messages.insert(ChatMessage(role: "system", content: "", tools: tools), at: 0)
            }
        }
        let model = self.model
        var limits = mediaLimits
        limits.images = media.images.map { .data($0) }
        limits.audios = media.audios.map { .data($0) }
        let prompt = limits
        guard media.isEmpty || model.multimodal != nil else {
            throw APIError.invalid("this model takes text only; image and audio parts need Phi-4-multimodal", param: "messages")
        }
        if !media.isEmpty {
            // Today's multimodal prompt API takes one user turn (after an optional system turn).
            let users = messages.filter { $0.role == "user" }
            guard users.count == 1, messages.last?.role == "user", messages.count <= 2 else {
                throw APIError.invalid("images and audio are supported in a single user turn for now", param: "messages")
            }
            let system = messages.first { $0.role == "system" }
            let user = users[0].content
            return EngineRequest(options: options, mediaKey: media.key) {
                try model.prepare(user, raw: false, system: system?.content, tools: system?.tools, media: prompt)
            }
        }
        let turns = messages
        return EngineRequest(options: options) { model.chatFormat.encode(turns, addGenerationPrompt: true) }
    }

    /// Raw completion prompt: text (special-token text stays text unless the operator allows control tokens)
    /// or token ids.
    func completionRequest(text: String?, tokens: [Int]?, options: GenerationOptions) throws -> EngineRequest {
        let model = self.model
        let parseSpecial = configuration.allowControlTokens
        if let tokens {
            let vocab = model.model.vocabularySize
            guard tokens.allSatisfy({ $0 >= 0 && $0 < vocab }) else {
                throw APIError.invalid("prompt token ids must be in 0..<\(vocab)", param: "prompt")
            }
            if !parseSpecial, tokens.contains(where: { model.tokenizer.isSpecial($0) }) {
                throw APIError.invalid("the prompt contains control token ids; the server does not allow them", param: "prompt")
            }
            return EngineRequest(prompt: tokens, options: options)
        }
        let text = text ?? ""
        return EngineRequest(options: options) {
            var ids = model.addsBOSToken ? [model.tokenizer.bosTokenID].compactMap { $0 } : []
            ids += model.tokenizer.encode(text, parseSpecial: parseSpecial)
            return ids
        }
    }
}
