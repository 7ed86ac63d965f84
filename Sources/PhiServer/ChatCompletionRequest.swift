import Foundation

/// A parsed and checked POST /v1/chat/completions body (OpenAI's fields; unknown top-level fields are ignored
/// as OpenAI's own clients send extras, but a wrong type or an unknown content part is a 400).
struct ChatCompletionRequest {
    enum Part {
        case text(String)
        /// `image_url.url`: a data: URL, or http(s)/file when the operator allows remote media.
        case image(url: String)
        /// `input_audio`: base64 data and its format (wav, flac).
        case audio(base64: String, format: String?)
    }

    struct ToolCall {
        var id: String
        var name: String
        /// The JSON text of the arguments, as OpenAI sends it.
        var arguments: String
    }

    struct Message {
        var role: String
        var parts: [Part]
        var toolCalls: [ToolCall] = []
        var toolCallID: String?
        var name: String?

        var text: String {
            parts.compactMap { if case .text(let t) = $0 { return t } else { return nil } }.joined()
        }
    }

    struct Tool {
        var name: String
        /// The function object ({name, description, parameters}) as given.
        var function: [String: Any]
    }

    enum ToolChoice: Equatable {
        case auto, none, required
        case function(String)
    }

    enum ResponseFormat {
        case text
        case jsonObject
        case jsonSchema([String: Any])
    }

    var model: String?
    var messages: [Message] = []
    var stream = false
    var includeUsage = false
    /// The sampling fields (chat and completions share them).
    var parameters = GenerationParameters()
    var tools: [Tool] = []
    var toolChoice = ToolChoice.auto
    var responseFormat = ResponseFormat.text

    init(_ j: JSONFields) throws {
        model = try j.string("model")
        guard let msgs = try j.objects("messages") else {
            throw APIError.invalid("'messages' is required: a non-empty array of messages", param: "messages")
        }
        guard !msgs.isEmpty else { throw APIError.invalid("'messages' must not be empty", param: "messages") }
        messages = try msgs.map(Self.message)
        stream = try j.bool("stream") ?? false
        if let so = try j.object("stream_options") {
            guard stream else {
                throw APIError.invalid("'stream_options' is only allowed when 'stream' is true", param: "stream_options")
            }
            includeUsage = try so.bool("include_usage") ?? false
        }
        if let n = try j.int("n", in: Int.min...Int.max), n != 1 {
            throw APIError.invalid("only n = 1 is supported (one choice per request)", param: "n")
        }
        let mct = try j.int("max_completion_tokens", in: 1...Int(Int32.max))
        parameters.maxTokens = try mct ?? j.int("max_tokens", in: 1...Int(Int32.max))
        try parameters.readSampling(j)
        parameters.logprobs = try j.bool("logprobs") ?? false
        if let t = try j.int("top_logprobs", in: 0...20) {
            guard parameters.logprobs else { throw APIError.invalid("'top_logprobs' requires 'logprobs': true", param: "top_logprobs") }
            parameters.topLogprobs = t
        }
        if let lb = try j.object("logit_bias") {
            for (k, v) in lb.object {
                guard let id = Int(k), id >= 0 else {
                    throw APIError.invalid("'logit_bias' keys must be token ids, got '\(k)'", param: "logit_bias")
                }
                guard let b = try lb.double(k, in: -100...100) else { continue }
                parameters.logitBias[id] = Float(b)
            }
        }
        if let ts = try j.objects("tools") {
            tools = try ts.map(Self.tool)
        }
        toolChoice = try Self.toolChoice(j, tools: tools)
        if let rf = try j.object("response_format") {
            switch try rf.string("type") {
            case "text", nil: responseFormat = .text
            case "json_object": responseFormat = .jsonObject
            case "json_schema":
                guard let js = try rf.object("json_schema") else {
                    throw APIError.invalid("'response_format.json_schema' is required for type json_schema", param: "response_format.json_schema")
                }
                responseFormat = .jsonSchema(js.object)
            case let t?:
                throw APIError.invalid("unknown 'response_format.type' '\(t)' (text, json_object, json_schema)", param: "response_format.type")
            }
        }
    }

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    static func message(_ m: JSONFields) throws -> Message {
        guard let role = try m.string("role") else { throw APIError.invalid("'\(m.name("role"))' is required", param: m.name("role")) }
        guard roles.contains(role) else {
            throw APIError.invalid("unknown role '\(role)' (system, developer, user, assistant, tool)", param: m.name("role"))
        }
        var msg = Message(role: role == "developer" ? "system" : role, parts: [])
        if let s = m.object["content"] as? String {
            msg.parts = [.text(s)]
        } else if let parts = try? m.objects("content") {
            msg.parts = try parts.map { try part($0, role: role) }
        } else if m.has("content") {
            throw APIError.invalid("'\(m.name("content"))' must be a string or an array of content parts", param: m.name("content"))
        } else if role != "assistant" {
            throw APIError.invalid("'\(m.name("content"))' is required for role \(role)", param: m.name("content"))
        }
        msg.name = try m.string("name")
        if let calls = try m.objects("tool_calls") {
            guard role == "assistant" else {
                throw APIError.invalid("only assistant messages can have 'tool_calls'", param: m.name("tool_calls"))
            }
            msg.toolCalls = try calls.map { c in
                guard let f = try c.object("function"), let name = try f.string("name") else {
                    throw APIError.invalid("'\(c.name("function.name"))' is required", param: c.name("function.name"))
                }
                let args = try f.string("arguments") ?? "{}"
                return ToolCall(id: try c.string("id") ?? "", name: name, arguments: args)
            }
        }
        if role == "tool" {
            msg.toolCallID = try m.string("tool_call_id")
        }
        return msg
    }

    static func part(_ p: JSONFields, role: String) throws -> Part {
        let type = try p.string("type")
        switch type {
        case "text":
            guard let t = try p.string("text") else { throw APIError.invalid("'\(p.name("text"))' is required", param: p.name("text")) }
            return .text(t)
        case "image_url":
            guard role == "user" else { throw APIError.invalid("image parts are only allowed in user messages", param: p.name("type")) }
            if let s = p.object["image_url"] as? String { return .image(url: s) }
            guard let iu = try p.object("image_url"), let url = try iu.string("url") else {
                throw APIError.invalid("'\(p.name("image_url.url"))' is required", param: p.name("image_url.url"))
            }
            return .image(url: url)
        case "input_audio":
            guard role == "user" else { throw APIError.invalid("audio parts are only allowed in user messages", param: p.name("type")) }
            guard let ia = try p.object("input_audio"), let data = try ia.string("data") else {
                throw APIError.invalid("'\(p.name("input_audio.data"))' is required (base64 WAV or FLAC)", param: p.name("input_audio.data"))
            }
            return .audio(base64: data, format: try ia.string("format"))
        case let t:
            throw APIError.invalid("unsupported content part type '\(t ?? "null")' (text, image_url, input_audio)", param: p.name("type"))
        }
    }

    static func tool(_ t: JSONFields) throws -> Tool {
        let type = try t.string("type") ?? "function"
        guard type == "function" else {
            throw APIError.invalid("unsupported tool type '\(type)' (function)", param: t.name("type"))
        }
        guard let f = try t.object("function"), let name = try f.string("name"), !name.isEmpty else {
            throw APIError.invalid("'\(t.name("function.name"))' is required", param: t.name("function.name"))
        }
        if f.has("parameters") { _ = try f.object("parameters") }
        return Tool(name: name, function: f.object)
    }

    static func toolChoice(_ j: JSONFields, tools: [Tool]) throws -> ToolChoice {
        guard j.has("tool_choice") else { return .auto }
        if let s = j.object["tool_choice"] as? String {
            switch s {
            case "auto": return .auto
            case "none": return .none
            case "required":
                guard !tools.isEmpty else { throw APIError.invalid("'tool_choice' is required but no tools were given", param: "tool_choice") }
                return .required
            default: throw APIError.invalid("'tool_choice' must be auto, none, required or a function", param: "tool_choice")
            }
        }
        guard let o = try j.object("tool_choice"), let f = try o.object("function"), let name = try f.string("name") else {
            throw APIError.invalid("'tool_choice' must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\": …}}",
                                   param: "tool_choice")
        }
        guard tools.contains(where: { $0.name == name }) else {
            throw APIError.invalid("'tool_choice' names the function '\(name)', which is not in 'tools'", param: "tool_choice")
        }
        return .function(name)
    }
}
