/// The Phi-4-mini / Phi-4-multimodal chat template (phi4-mini.md §6) as code:
/// `<|role|>content<|end|>` per message, `<|system|>content<|tool|>tools<|/tool|><|end|>` for a system message with
/// tools, then `<|assistant|>` (generation prompt) or `<|endoftext|>`.
///
/// `encode` inserts special ids only for the scaffolding; message text is always encoded as plain text, so a user
/// cannot inject `<|end|>`. For content without added-token text the ids equal HF's encoding of `render(...)`:
/// whitespace right after an `rstrip` token (all Phi scaffolding tokens) is dropped as HF absorbs it, and
/// whitespace right before an `lstrip` token likewise.
public struct PhiChatFormat: Sendable {
    /// Roles whose `<|role|>` tag is emitted as a special id; other roles are rendered as plain text.
    public static let roles: Set<String> = ["system", "user", "assistant", "tool"]
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
    private let eosID: Int
    private let eosContent: String

    public init(tokenizer: Tokenizer) throws {
        func need(_ content: String) throws -> AddedToken {
            guard let t = tokenizer.addedToken(content) else { throw TokenizerError.missingSpecialToken(content) }
            return t
        }
        self.tokenizer = tokenizer
        var roles: [String: AddedToken] = [:]
        for role in Self.roles { roles[role] = try need("<|\(role)|>") }
        roleTokens = roles
        end = try need("<|end|>")
        toolOpen = try need("<|tool|>")
        toolClose = try need("<|/tool|>")
        assistant = try need("<|assistant|>")
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
            s += "<|end|>"
        }
        s += addGenerationPrompt ? "<|assistant|>" : eosContent
        return s
    }

    /// Token ids of the conversation; only the scaffolding becomes special ids.
    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> [Int] {
        encode(messages, addGenerationPrompt: addGenerationPrompt, media: nil)
    }

    /// Token ids of the conversation; with `media`, `<|image_N|>` / `<|audio_N|>` in message text become one
    /// placeholder id each (text around them is encoded separately, as HF does around an added token).
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
            let afterContent = hasTools ? toolOpen : end
            if let roleToken = roleTokens[m.role] {
                token(roleToken)
            } else {
                text("<|\(m.role)|>", before: nil)
            }
            if let media {
                let parts = MediaPlaceholders.split(m.content)
                for (i, part) in parts.enumerated() {
                    switch part {
                    case .text(let t): text(t, before: i == parts.count - 1 ? afterContent : nil)
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
            token(end)
        }
        if addGenerationPrompt {
            ids.append(assistant.id)
        } else {
            ids.append(eosID)
        }
        return ids
    }
}
