extension Tokenizer {
    /// GGUF `tokenizer.ggml.token_type` values.
    public enum GGUFTokenType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Builds a tokenizer from a vocabulary list, as stored in a GGUF file with `tokenizer.ggml.model == "gpt2"`.
    ///
    /// - Parameters:
    ///   - vocab: token strings in byte-level form (`tokenizer.ggml.tokens`); the index is the id.
    ///   - merges: merge pairs in rank order (`tokenizer.ggml.merges`, each "a b" split at its space).
    ///   - tokenTypes: `tokenizer.ggml.token_type` (raw values, see `GGUFTokenType`). `control` tokens become
    ///     special added tokens, `userDefined` ones non-special added tokens, `unused` rows get no string.
    ///     nil = all normal.
    ///   - preTokenizer: e.g. `try .named(ggufPre)` with `tokenizer.ggml.pre` (`gpt-4o` for Phi-4).
    ///   - ignoreMerges: emit a piece that is itself a vocab entry directly (HF `ignore_merges`; true for Phi-4's
    ///     tokenizer.json and Llama-3).
    ///   - rstripTokens: contents of added tokens that absorb whitespace to their right; GGUF has no such flag, so
    ///     pass `PhiChatFormat.phi4RstripTokens` for Phi-4 files to match their tokenizer.json.
    ///   - bosTokenID / eosTokenID: `tokenizer.ggml.bos_token_id` / `eos_token_id`.
    ///   - chatTemplate: `tokenizer.chat_template`.
    public convenience init(vocab: [String], merges: [(String, String)], tokenTypes: [Int32]? = nil,
                            preTokenizer: PreTokenizer, ignoreMerges: Bool = false, rstripTokens: Set<String> = [],
                            bosTokenID: Int? = nil, eosTokenID: Int? = nil, chatTemplate: String? = nil) throws {
        let file = "GGUF vocabulary"
        if let tokenTypes, tokenTypes.count != vocab.count {
            throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.token_type",
                                              detail: "\(tokenTypes.count) types for \(vocab.count) tokens")
        }
        var entries: [(String, Int)] = []
        entries.reserveCapacity(vocab.count)
        var added: [AddedToken] = []
        for (id, token) in vocab.enumerated() {
            let type = tokenTypes.map { GGUFTokenType(rawValue: $0[id]) ?? .normal } ?? .normal
            switch type {
            case .unused:
                continue
            case .control, .userDefined:
                added.append(AddedToken(id: id, content: token, special: type == .control,
                                        rstrip: rstripTokens.contains(token), normalized: false))
                entries.append((token, id))
            default:
                entries.append((token, id))
            }
        }
        func content(_ id: Int?, _ field: String) throws -> String? {
            guard let id else { return nil }
            guard id >= 0 && id < vocab.count else {
                throw TokenizerError.invalidField(file: file, field: field, detail: "id \(id) out of range")
            }
            return vocab[id]
        }
        let components = TokenizerComponents(
            vocab: entries, merges: merges.map { .pair($0.0, $0.1) }, ignoreMerges: ignoreMerges, unkToken: nil, fuseUnk: false,
            preTokenizer: preTokenizer, addedTokens: added,
            bosToken: try content(bosTokenID, "tokenizer.ggml.bos_token_id"),
            eosToken: try content(eosTokenID, "tokenizer.ggml.eos_token_id"),
            chatTemplate: chatTemplate, file: file)
        try self.init(components: components)
    }
}
