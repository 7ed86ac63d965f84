/// The Phi-3 / Phi-3.5 chat template as code: `<|role|>\ncontent<|end|>\n` for system, user and assistant
/// messages (other roles are not rendered, as in the published templates), then `<|assistant|>\n` (generation
/// prompt) or the EOS token.
///
/// Published templates (tokenizer_config.json `chat_template`): Phi-3-mini-4k/128k-instruct (July 2024 update)
/// render every system message; Phi-3.5-mini-instruct renders a system message only when its content is not empty
/// (`message['role'] == 'system' and message['content']`), which `skipsEmptySystem` follows.
///
/// As `PhiChatFormat`, only the scaffolding becomes special ids and message text is encoded as plain text; text
/// right after an `rstrip` token loses its leading whitespace (the template's `\n` included) and text right before
/// an `lstrip` token its trailing whitespace, as HF does around added tokens, so the ids equal HF's encoding of the
/// rendered text for content without added-token text. Each text segment is encoded on its own (SentencePiece
/// tokenizers prefix each one with `▁`, as HF does between added tokens).
public struct Phi3ChatFormat: ChatFormat {
    /// Roles the template renders.
    public static let roles: Set<String> = ["system", "user", "assistant"]

    private let tokenizer: Tokenizer
    private let roleTokens: [String: AddedToken]
    private let end: AddedToken
    private let assistant: AddedToken
    private let eosID: Int
    /// Phi-3.5: an empty system message is not rendered.
    public let skipsEmptySystem: Bool

    public init(tokenizer: Tokenizer, template: String? = nil) throws {
        func need(_ content: String) throws -> AddedToken {
            guard let t = tokenizer.addedToken(content) else { throw TokenizerError.missingSpecialToken(content) }
            return t
        }
        self.tokenizer = tokenizer
        var roles: [String: AddedToken] = [:]
        for role in Self.roles { roles[role] = try need("<|\(role)|>") }
        roleTokens = roles
        end = try need("<|end|>")
        assistant = try need("<|assistant|>")
        if let eos = tokenizer.eosTokenID {
            eosID = eos
        } else {
            eosID = try need("<|endoftext|>").id
        }
        skipsEmptySystem = template?.contains("message['role'] == 'system' and message['content']") ?? false
    }

    /// True when a chat template (or, without one, the vocabulary) is Phi-3's: role tags followed by a newline
    /// (`'<|user|>\n'` or `'<|user|>' + '\n'` in the Jinja source), or no template and Phi-3's tokens without Phi-4's
    /// `<|tool|>`.
    public static func describes(template: String?, tokenizer: Tokenizer) -> Bool {
        guard let t = template else {
            return tokenizer.addedToken("<|user|>") != nil && tokenizer.addedToken("<|end|>") != nil
                && tokenizer.addedToken("<|tool|>") == nil
        }
        return t.contains(#"<|user|>\n"#) || t.contains(#"'<|user|>' + '\n'"#)
    }

    /// The template's text (what HF's `apply_chat_template(tokenize=False)` returns; `eosContent` stands for
    /// `eos_token`).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var s = ""
        for m in messages where isRendered(m) { s += "<|\(m.role)|>\n" + m.content + "<|end|>\n" }
        s += addGenerationPrompt ? "<|assistant|>\n" : (tokenizer.tokenString(eosID) ?? "")
        return s
    }

    private func isRendered(_ m: ChatMessage) -> Bool {
        Self.roles.contains(m.role) && !(skipsEmptySystem && m.role == "system" && m.content.isEmpty)
    }

    public func encode(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> [Int] {
        var ids: [Int] = []
        var stripNext = false  // the previous token absorbs whitespace to its right
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
            stripNext = false
            guard lo < hi else { return }
            ids += tokenizer.encode(String(u[lo..<hi]))
        }
        var pending = ""  // template text not yet encoded (the "\n" after <|end|>)
        for m in messages where isRendered(m) {
            guard let role = roleTokens[m.role] else { continue }
            text(pending, before: role)
            token(role)
            text("\n" + m.content, before: end)
            token(end)
            pending = "\n"
        }
        if addGenerationPrompt {
            text(pending, before: assistant)
            token(assistant)
            text("\n", before: nil)
        } else {
            text(pending, before: tokenizer.addedToken(tokenizer.tokenString(eosID) ?? ""))
            ids.append(eosID)
        }
        return ids
    }
}
