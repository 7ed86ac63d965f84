import Foundation
import PhiKit

/// Turns parsed OpenAI requests into engine requests with the shared `PromptBuilder` (messages, media, tools,
/// tool calls and results) and output constraints (`response_format`, forced `tool_choice`).
struct EngineBridge: Sendable {
    let model: LoadedModel
    let configuration: ServerConfiguration

    /// Decoded media of one request, in order of appearance.
    struct Media {
        var images: [Data] = []
        var audios: [Data] = []
        var isEmpty: Bool { images.isEmpty && audios.isEmpty }

        /// A digest of every byte: a cached prefix is reused only under the same media (and the engine also
        /// compares the features themselves before it reuses any).
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

    var mediaLimits: MediaLimits {
        MediaLimits(image: ImageLimits(maxImagesPerPrompt: configuration.maxImages),
                    audio: AudioLimits(maxSeconds: configuration.maxAudioSeconds, maxBytes: configuration.maxBodyBytes))
    }

    /// The tools as the template pastes them (OpenAI's function objects, in the model card's shape).
    static func toolList(_ tools: [ChatCompletionRequest.Tool]) -> ToolList {
        ToolList(functions: tools.map { t in
            FunctionDefinition(name: t.name, description: t.function["description"] as? String,
                               parameters: (t.function["parameters"] as? [String: Any]).map { JSON.string($0) })
        })
    }

    /// The engine request for a chat prompt (the prompt is built on the engine's thread) and the output
    /// constraint, checked here so that an unsupported schema is a 400 before anything is queued.
    func chatRequest(_ request: ChatCompletionRequest, media: Media, options: GenerationOptions) throws -> EngineRequest {
        var options = options
        let offered = request.tools.isEmpty || request.toolChoice == .none ? nil : Self.toolList(request.tools)
        switch request.toolChoice {
        case .required, .function:
            var name: String?
            if case .function(let n) = request.toolChoice { name = n }
            options.constraint = .toolCall(tools: offered?.json ?? "[]", name: name)
        case .auto, .none:
            switch request.responseFormat {
            case .text: break
            case .jsonObject: options.constraint = .jsonObject
            case .jsonSchema(let spec):
                guard let schema = spec["schema"] as? [String: Any] else {
                    throw APIError.invalid("'response_format.json_schema.schema' is required", param: "response_format.json_schema.schema")
                }
                options.constraint = .jsonSchema(JSON.string(schema))
            }
        }
        if let c = options.constraint {
            do {
                try c.validate(for: model.tokenizer)
            } catch let e as ConstraintError {
                throw APIError.invalid(e.description, param: request.toolChoice == .auto || request.toolChoice == .none ? "response_format" : "tools",
                                       code: "unsupported_constraint")
            }
        }
        var images = media.images.makeIterator(), audios = media.audios.makeIterator()
        var messages: [PromptMessage] = []
        for m in request.messages {
            var parts: [PromptMessage.Part] = []
            for p in m.parts {
                switch p {
                case .text(let t): parts.append(.text(t))
                case .image: if let d = images.next() { parts.append(.image(.data(d))) }
                case .audio: if let d = audios.next() { parts.append(.audio(.data(d))) }
                }
            }
            let role: PromptMessage.Role
            switch m.role {
            case "system": role = .system
            case "assistant": role = .assistant
            case "tool": role = .tool
            default: role = .user
            }
            messages.append(PromptMessage(role: role, content: parts,
                                          toolCalls: m.toolCalls.map { ToolCall(id: $0.id, name: $0.name, arguments: $0.arguments) },
                                          toolCallID: m.toolCallID, name: m.name))
        }
        let builder = PromptBuilder(model: model)
        let promptOptions = PromptOptions(mode: .chat, limits: mediaLimits)
        let turns = messages
        return EngineRequest(options: options, mediaKey: media.key) {
            try builder.build(turns, tools: offered, options: promptOptions)
        }
    }

    /// Raw completion prompt: text (special-token text stays text unless the operator allows control tokens)
    /// or token ids.
    func completionRequest(text: String?, tokens: [Int]?, options: GenerationOptions) throws -> EngineRequest {
        let model = self.model
        if let tokens {
            let vocab = model.model.vocabularySize
            guard tokens.allSatisfy({ $0 >= 0 && $0 < vocab }) else {
                throw APIError.invalid("prompt token ids must be in 0..<\(vocab)", param: "prompt")
            }
            if !configuration.allowControlTokens, tokens.contains(where: { model.tokenizer.isSpecial($0) }) {
                throw APIError.invalid("the prompt contains control token ids; the server does not allow them", param: "prompt")
            }
            return EngineRequest(prompt: tokens, options: options)
        }
        let builder = PromptBuilder(model: model)
        let promptOptions = PromptOptions(mode: .raw(parseSpecialTokens: configuration.allowControlTokens), limits: mediaLimits)
        let message = PromptMessage.user(text ?? "")
        return EngineRequest(options: options) { try builder.build([message], options: promptOptions) }
    }
}
