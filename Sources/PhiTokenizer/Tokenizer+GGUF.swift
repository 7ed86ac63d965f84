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

extension Tokenizer {
    /// Builds a tokenizer from a SentencePiece vocabulary as stored in a GGUF file with
    /// `tokenizer.ggml.model == "llama"` (Llama-2, Phi-3, Mistral v0.1), tokenizing as llama.cpp's SPM tokenizer:
    /// each text segment gets a `▁` prefix (`add_space_prefix`) and `▁` for spaces, then score-ordered merges with
    /// `<0xXX>` byte fallback (`SentencePieceModel`); decoding turns `▁` into spaces, joins byte tokens, and strips
    /// the leading space when `addSpacePrefix`.
    ///
    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens` (UTF-8, spaces as `▁`); the index is the id.
    ///   - scores: `tokenizer.ggml.scores` (nil: all 0).
    ///   - tokenTypes: `tokenizer.ggml.token_type`: `control` and `unknown` tokens become special added tokens,
    ///     `userDefined` ones non-special added tokens (matched with `parseSpecial: true`; llama.cpp also matches
    ///     user-defined tokens without it). nil = all normal.
    ///   - addSpacePrefix: `tokenizer.ggml.add_space_prefix` (llama.cpp's default for SPM: true).
    ///   - rstripTokens / lstripTokens: added-token contents that absorb whitespace (llama.cpp sets these by model
    ///     name, e.g. for Phi-3; see `GGUFTokenizer`).
    public convenience init(sentencePieceVocab tokens: [String], scores: [Float]?, tokenTypes: [Int32]? = nil,
                            addSpacePrefix: Bool = true, rstripTokens: Set<String> = [], lstripTokens: Set<String> = [],
                            bosTokenID: Int? = nil, eosTokenID: Int? = nil, unknownTokenID: Int? = nil,
                            chatTemplate: String? = nil) throws {
        let file = "GGUF vocabulary"
        guard tokens.count <= Tokenizer.maxVocabularySize else {
            throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.tokens",
                                              detail: "\(tokens.count) tokens, more than \(Tokenizer.maxVocabularySize)")
        }
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.token_type",
                                              detail: "\(tokenTypes.count) types for \(tokens.count) tokens")
        }
        for (field, id) in [("tokenizer.ggml.bos_token_id", bosTokenID), ("tokenizer.ggml.eos_token_id", eosTokenID),
                            ("tokenizer.ggml.unknown_token_id", unknownTokenID)] {
            if let id, id < 0 || id >= tokens.count {
                throw TokenizerError.invalidField(file: file, field: field, detail: "id \(id) out of range")
            }
        }
        // llama.cpp renames empty tokens so that they stay distinct (and never match text).
        let tokens = tokens.enumerated().map { $1.isEmpty ? "[EMPTY_\($0)]" : $1 }
        let model = try SentencePieceModel(tokens: tokens, scores: scores, unknownID: unknownTokenID, file: file)
        var added: [AddedToken] = []
        for (id, token) in tokens.enumerated() {
            let type = tokenTypes.map { GGUFTokenType(rawValue: $0[id]) ?? .normal } ?? .normal
            guard type == .control || type == .userDefined || type == .unknown else { continue }
            added.append(AddedToken(id: id, content: token, special: type != .userDefined,
                                    lstrip: lstripTokens.contains(token), rstrip: rstripTokens.contains(token),
                                    normalized: false))
        }
        var components = TokenizerComponents(
            vocab: tokens.enumerated().map { ($1, $0) }, merges: [], ignoreMerges: false, unkToken: nil, fuseUnk: false,
            preTokenizer: PreTokenizer(steps: []), addedTokens: added, bosToken: nil, eosToken: nil,
            chatTemplate: chatTemplate, file: file)
        components.byteLevel = false
        components.byteFallback = true
        components.normalizer = addSpacePrefix ? .sentencePiece
            : TextNormalizer(steps: [.replace([0x20], with: TextNormalizer.spaceMarker)])
        components.pieceDecoder = .sentencePiece(stripLeadingSpace: addSpacePrefix)
        components.sentencePiece = model
        components.bosTokenID = bosTokenID
        components.eosTokenID = eosTokenID
        try self.init(components: components)
    }
}
