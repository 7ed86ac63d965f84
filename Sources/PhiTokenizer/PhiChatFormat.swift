/// The Phi-4-mini / Phi-4-multimodal chat template (phi4-mini.md §6) as code:
/// `<|role|>content<|end|>` per message, `<|system|>content<|tool|>tools<|/tool|><|end|>` for a system message with
/// tools, then `<|assistant|>` (generation prompt) or `<|endoftext|>`.
///
/// Tool use, beyond the published template (which documents only tool definitions):
/// - an assistant turn with tool calls renders as
///   `<|assistant|>content<|tool_call|>[{"name": "f", "arguments": {…}}, …]<|/tool_call|><|end|>`, the form the
///   model emits (names JSON-quoted, each call's `arguments` text pasted as given, `{}` when empty);
/// - a tool result uses role `tool_response`: `<|tool_response|>result<|end|>`. Role `tool` still renders as the
///   template does (`<|tool|>`, which collides with the tool-definition opener), for parity with HF.
///
/// `encode` inserts special ids only for the scaffolding; message text, tool definitions, call names and
/// arguments are always encoded as plain text, so no text can inject `<|end|>` or `<|tool_call|>`. For content
/// without added-token text the ids equal HF's encoding of `render(...)`: whitespace right after an `rstrip` token
/// (all Phi scaffolding tokens) is dropped as HF absorbs it, and whitespace right before an `lstrip` token likewise.
public struct PhiChatFormat: Sendable {
    /// Roles whose `<|role|>` tag is emitted as a special id; other roles are rendered as plain text.
    public static let roles: Set<String> = ["system", "user", "assistant", "tool", "tool_response"]
    /// Phi scaffolding tokens that absorb following whitespace (for tokenizers built from GGUF, which lacks flags).
    public static let phi4RstripTokens: Set<String> = [
        "<|assistant|>", "<|end|>", "<|user|>", "<|system|>", "<|tool|>", "<|/tool|>",
        "<|tool_call|>", "<|/tool_call|>", "<|tool_response|>", "<|tag|>",
    ]

    private let tokenizer: Tokenizer
    private let roleTokens: [String: AddedToken]
    private let end: AddedToken
    private let toolOpen: AddedToken
    private let toolClose: AddedToken
    private let assistant: AddedToken
    /// `<|tool_call|>` / `<|/tool_call|>`; when the vocabulary lacks them, calls render as plain text.
    private let toolCallOpen: AddedToken?
    private let toolCallClose: AddedToken?
    private let eosID: Int
    private let eosContent: String

    public init(tokenizer: Tokenizer) throws {
        func need(_ content: String) throws -> AddedToken {
            guard let t = tokenizer.addedToken(content) else { throw TokenizerError.missingSpecialToken(content) }
            return t
        }
        self.tokenizer = tokenizer
        var roles: [String: AddedToken] = [:]
        for role in Self.roles where role != "tool_response" { roles[role] = try need("<|\(role)|>") }
        roles["tool_response"] = tokenizer.addedToken("<|tool_response|>")
        roleTokens = roles
        end = try need("<|end|>")
        toolOpen = try need("<|tool|>")
        toolClose = try need("<|/tool|>")
        assistant = try need("<|assistant|>")
        toolCallOpen = tokenizer.addedToken("<|tool_call|>")
        toolCallClose = tokenizer.addedToken("<|/tool_call|>")
        if let eos = tokenizer.eosTokenID, let s = tokenizer.tokenString(eos) {
            eosID = eos
            eosContent = s
        } else {
            let t = try need("<|endoftext|>")
            eosID = t.id
            eosContent = t.content
        }
    }

    /// The template's text (what HF's `apply_chat_template(tokenize=False)` returns).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var s = ""
        for m in messages {
            s += "<|\(m.role)|>" + m.content
            if m.role == "system", let tools = m.tools { s += "<|tool|>" + tools + "<|/tool|>" }
            if !m.toolCalls.isEmpty { s += "<|tool_call|>" + Self.toolCallText(m.toolCalls) + "<|/tool_call|>" }
            s += "<|end|>"
        }
        s += addGenerationPrompt ? "<|assistant|>" : eosContent
        return s
    }

    /// Token ids of the conversation; only the scaffolding becomes special ids.
    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> [Int] {
        encode(messages, addGenerationPrompt: addGenerationPrompt, media: nil)
    }

    /// Token ids of the conversation; with `media`, each media slot of a message becomes one placeholder id
    /// (text around it is encoded separately, as HF does around an added token). Without `media`, a slot is
    /// encoded as the text `content` shows for it.
    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool, media: MediaPlaceholders?) -> [Int] {
        var ids: [Int] = []
        var stripNext = false  // the previous token was an rstrip token
        func token(_ t: AddedToken) {
            ids.append(t.id)
            stripNext = t.rstrip
        }
        func text(_ s: String, before next: AddedToken?) {
            let u = s.unicodeScalars
            var lo = u.startIndex, hi = u.endIndex
            if stripNext {
                while lo < hi && u[lo].properties.isWhitespace { lo = u.index(after: lo) }
            }
            if next?.lstrip == true {
                while hi > lo && u[u.index(before: hi)].properties.isWhitespace { hi = u.index(before: hi) }
            }
            guard lo < hi else { return }
            ids += tokenizer.encode(String(u[lo..<hi]))
            stripNext = false
        }
        for m in messages {
            let hasTools = m.role == "system" && m.tools != nil
            let callOpen = m.toolCalls.isEmpty ? nil : toolCallOpen
            let afterContent = hasTools ? toolOpen : callOpen ?? end
            if let roleToken = roleTokens[m.role] {
                token(roleToken)
            } else {
                text("<|\(m.role)|>", before: nil)
            }
            if let media {
                for (i, part) in m.parts.enumerated() {
                    switch part {
                    case .text(let t): text(t, before: i == m.parts.count - 1 ? afterContent : nil)
                    case .placeholder(let kind):
                        ids.append(kind == .image ? media.imageTokenID : media.audioTokenID)
                        stripNext = false
                    }
                }
            } else {
                text(m.content, before: afterContent)
            }
            if hasTools, let tools = m.tools {
                token(toolOpen)
                text(tools, before: toolClose)
                token(toolClose)
            }
            if !m.toolCalls.isEmpty {
                let body = Self.toolCallText(m.toolCalls)
                if let open = toolCallOpen, let close = toolCallClose {
                    token(open)
                    text(body, before: close)
                    token(close)
                } else {
                    text("<|tool_call|>" + body + "<|/tool_call|>", before: end)
                }
            }
            token(end)
        }
        if addGenerationPrompt {
            ids.append(assistant.id)
        } else {
            ids.append(eosID)
        }
        return ids
    }

    /// The JSON list the model emits after `<|tool_call|>`: `[{"name": "f", "arguments": {…}}, …]`, in Python's
    /// `json.dumps` spacing; arguments are pasted as given (`{}` when blank).
    public static func toolCallText(_ calls: [ToolCall]) -> String {
        let items = calls.map { call -> String in
            let args = call.arguments.trimmingWhitespace()
            return "{\"name\": \(jsonQuoted(call.name)), \"arguments\": \(args.isEmpty ? "{}" : args)}"
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    /// `s` as a JSON string literal (non-ASCII kept as is, as `tojson` does).
    public static func jsonQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension String {
    /// Without leading and trailing Unicode whitespace (Foundation-free).
    func trimmingWhitespace() -> String {
        let u = unicodeScalars
        var lo = u.startIndex, hi = u.endIndex
        while lo < hi && u[lo].properties.isWhitespace { lo = u.index(after: lo) }
        while hi > lo && u[u.index(before: hi)].properties.isWhitespace { hi = u.index(before: hi) }
        return String(u[lo..<hi])
    }
}
