import PhiTokenizer
import PhiWeights

/// The tokenizer stored in a GGUF file's metadata (`tokenizer.ggml.*`), tokenizing as llama.cpp does.
///
/// Two tokenizer models (`tokenizer.ggml.model`):
/// - `llama` (SentencePiece: Llama-2, Phi-3, Phi-3.5, Mistral v0.1): llama.cpp's SPM tokenizer, merges by
///   `tokenizer.ggml.scores`, `<0xXX>` byte fallback, `tokenizer.ggml.add_space_prefix` (default true), BOS added by
///   default (`add_bos_token` absent means true, as in llama.cpp). For files whose `general.name` contains `phi-3`
///   or `phi3`, added tokens absorb whitespace to their right except `<unk>`, `<s>` and `<|endoftext|>`, as
///   llama.cpp sets for Phi-3.
/// - `gpt2` (byte-level BPE: GPT-2, Llama-3, Phi-4, SmolLM, ...). `tokenizer.ggml.pre` names the pre-tokenizer;
///   every name llama.cpp knows is either mapped onto the family with llama.cpp's regex (`preTokenizerFamilies`)
///   or refused by name (`unsupportedPreTokenizers`). A missing `pre` means llama.cpp's `default`.
///   `ignore_merges` follows llama.cpp per name, except `gpt-4o`, where it is on as in Phi-4's tokenizer.json.
///
/// GGUF has no added-token flags, so: `control` token types become special added tokens, `user_defined` ones
/// non-special added tokens. For Phi-4 vocabularies (ones containing `<|end|>` and `<|tool|>`), the Phi scaffolding
/// tokens absorb whitespace to their right (`PhiChatFormat.phi4RstripTokens`) and the tool tokens are non-special,
/// as in Microsoft's tokenizer.json (llama.cpp's converter types every `<|...|>` token as control), so decoding with
/// `skipSpecial` keeps them for tool-call parsing.
///
/// Errors: metadata problems are `WeightsError`s naming the file and key; vocabulary problems `TokenizerError`s.
public enum GGUFTokenizer {
    /// The tokenizer settings a generator needs besides the vocabulary.
    public struct Configuration: Sendable, Equatable {
        /// `tokenizer.ggml.model`.
        public let model: String
        /// `tokenizer.ggml.pre` ("default" when absent).
        public let pre: String
        public let bosTokenID: Int?
        public let eosTokenID: Int?
        /// `tokenizer.ggml.eot_token_id` (end of turn, e.g. `<|end|>`), when present.
        public let eotTokenID: Int?
        public let paddingTokenID: Int?
        public let unknownTokenID: Int?
        /// `tokenizer.ggml.add_bos_token` / `add_eos_token`; nil when the file does not say.
        public let addBOSToken: Bool?
        public let addEOSToken: Bool?
        /// `tokenizer.chat_template`, kept as data.
        public let chatTemplate: String?
        /// `tokenizer.ggml.add_space_prefix` (SentencePiece vocabularies; llama.cpp's default: true).
        public let addSpacePrefix: Bool
    }

    /// Phi-4 tool tokens that are added but not special in Microsoft's tokenizer.json.
    static let phi4NonSpecialTokens: Set<String> = [
        "<|tool|>", "<|/tool|>", "<|tool_call|>", "<|/tool_call|>", "<|tool_response|>", "<|tag|>",
    ]

    /// Builds the tokenizer from the file's vocabulary, merges, token types and pre-tokenizer name.
    public static func load(from file: GGUFFile) throws -> Tokenizer {
        let config = try configuration(from: file)
        if config.model == "llama" { return try loadSentencePiece(from: file, config: config) }
        let tokens = try vocabulary(file)
        let mergeLines = try file.stringArray("tokenizer.ggml.merges")
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (i, line) in mergeLines.enumerated() {
            // llama.cpp splits at the first space after the first byte (`word.find(' ', 1)`).
            guard let space = line.utf8.dropFirst().firstIndex(of: UInt8(ascii: " ")) else {
                throw TokenizerError.invalidField(file: file.path, field: "tokenizer.ggml.merges",
                                                  detail: "merge \(i) '\(line.prefix(40))' is not two tokens separated by a space")
            }
            let left = String(line[..<space])
            let right = String(line[line.utf8.index(after: space)...])
            merges.append((left, right))
        }

        var types = try tokenTypes(file, count: tokens.count)

        let vocabulary = Set(tokens)
        let isPhi4 = vocabulary.contains("<|end|>") && vocabulary.contains("<|tool|>")
        if isPhi4, var t = types {
            let control = Tokenizer.GGUFTokenType.control.rawValue
            for (id, token) in tokens.enumerated() where t[id] == control && phi4NonSpecialTokens.contains(token) {
                t[id] = Tokenizer.GGUFTokenType.userDefined.rawValue
            }
            types = t
        }

        let pre = try preTokenizer(config.pre, file: file.path)
        return try Tokenizer(vocab: tokens, merges: merges, tokenTypes: types, preTokenizer: pre.tokenizer,
                             ignoreMerges: pre.ignoreMerges,
                             rstripTokens: isPhi4 ? PhiChatFormat.phi4RstripTokens : [],
                             bosTokenID: config.bosTokenID, eosTokenID: config.eosTokenID,
                             chatTemplate: config.chatTemplate)
    }

    /// `tokenizer.ggml.tokens`, at most `Tokenizer.maxVocabularySize` of them.
    static func vocabulary(_ file: GGUFFile) throws -> [String] {
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        guard tokens.count <= Tokenizer.maxVocabularySize else {
            throw TokenizerError.invalidField(file: file.path, field: "tokenizer.ggml.tokens",
                                              detail: "\(tokens.count) tokens, more than \(Tokenizer.maxVocabularySize)")
        }
        return tokens
    }

    /// `tokenizer.ggml.token_type` (optional), one per token.
    static func tokenTypes(_ file: GGUFFile, count: Int) throws -> [Int32]? {
        guard file.hasKey("tokenizer.ggml.token_type") else { return nil }
        let raw = try file.intArray("tokenizer.ggml.token_type")
        guard raw.count == count else {
            throw TokenizerError.invalidField(file: file.path, field: "tokenizer.ggml.token_type",
                                              detail: "\(raw.count) types for \(count) tokens")
        }
        return raw.map { Int32(clamping: $0) }
    }

    /// A `llama` (SentencePiece) vocabulary: tokens, scores, token types, `add_space_prefix`.
    static func loadSentencePiece(from file: GGUFFile, config: Configuration) throws -> Tokenizer {
        let tokens = try vocabulary(file)
        var scores: [Float]?
        if file.hasKey("tokenizer.ggml.scores") {
            let s = try file.floatArray("tokenizer.ggml.scores")
            guard s.count == tokens.count else {
                throw TokenizerError.invalidField(file: file.path, field: "tokenizer.ggml.scores",
                                                  detail: "\(s.count) scores for \(tokens.count) tokens")
            }
            scores = s
        }
        let types = try tokenTypes(file, count: tokens.count)
        var rstrip: Set<String> = []
        let name = (file.value("general.name")?.stringValue ?? "").lowercased()
        if name.contains("phi-3") || name.contains("phi3") {
            let marked: Set<Int32> = [Tokenizer.GGUFTokenType.control.rawValue, Tokenizer.GGUFTokenType.userDefined.rawValue,
                                      Tokenizer.GGUFTokenType.unknown.rawValue]
            for (id, token) in tokens.enumerated() where types.map({ marked.contains($0[id]) }) ?? false {
                rstrip.insert(token)
            }
            rstrip.insert("</s>")
            rstrip.subtract(["<unk>", "<s>", "<|endoftext|>"])
        }
        do {
            return try Tokenizer(sentencePieceVocab: tokens, scores: scores, tokenTypes: types,
                                 addSpacePrefix: config.addSpacePrefix, rstripTokens: rstrip,
                                 bosTokenID: config.bosTokenID, eosTokenID: config.eosTokenID,
                                 unknownTokenID: config.unknownTokenID, chatTemplate: config.chatTemplate)
        } catch let error as TokenizerError {
            throw error.inFile(file.path)
        }
    }

    /// The special ids, flags and template, validated against the vocabulary size; throws for tokenizer models
    /// other than "gpt2" and "llama" and for pre-tokenizer names PhiKit does not implement.
    public static func configuration(from file: GGUFFile) throws -> Configuration {
        let model = try file.string("tokenizer.ggml.model")
        guard model == "gpt2" || model == "llama" else {
            throw TokenizerError.unsupportedComponent(file: file.path, field: "tokenizer.ggml.model", type: model)
        }
        let pre = try file.string("tokenizer.ggml.pre", default: "default")
        if model == "gpt2" { _ = try preTokenizer(pre, file: file.path) }
        guard case .array(.string, let tokens)? = file.value("tokenizer.ggml.tokens") else {
            _ = try file.stringArray("tokenizer.ggml.tokens") // throws the missing/mistyped-key error
            throw TokenizerError.missingField(file: file.path, field: "tokenizer.ggml.tokens")
        }
        func id(_ key: String) throws -> Int? {
            guard file.hasKey(key) else { return nil }
            let v = try file.int(key)
            guard v >= 0 && v < tokens.count else {
                throw TokenizerError.invalidField(file: file.path, field: key,
                                                  detail: "id \(v) is outside the \(tokens.count)-token vocabulary")
            }
            return v
        }
        func flag(_ key: String) throws -> Bool? { file.hasKey(key) ? try file.bool(key) : nil }
        return Configuration(
            model: model, pre: pre,
            bosTokenID: try id("tokenizer.ggml.bos_token_id"),
            eosTokenID: try id("tokenizer.ggml.eos_token_id"),
            eotTokenID: try id("tokenizer.ggml.eot_token_id"),
            paddingTokenID: try id("tokenizer.ggml.padding_token_id"),
            unknownTokenID: try id("tokenizer.ggml.unknown_token_id"),
            addBOSToken: try flag("tokenizer.ggml.add_bos_token") ?? (model == "llama" ? true : nil),
            addEOSToken: try flag("tokenizer.ggml.add_eos_token"),
            chatTemplate: chatTemplate(from: file),
            addSpacePrefix: try flag("tokenizer.ggml.add_space_prefix") ?? true)
    }

    /// `tokenizer.chat_template` (Jinja source), when present and a string.
    public static func chatTemplate(from file: GGUFFile) -> String? {
        file.value("tokenizer.chat_template")?.stringValue
    }

    /// Every byte-level `tokenizer.ggml.pre` name llama.cpp maps onto a regex PhiKit implements: the PhiKit
    /// pre-tokenizer family (`PreTokenizer.named`) and llama.cpp's `ignore_merges` for the name.
    public static let preTokenizerFamilies: [String: (family: String, ignoreMerges: Bool)] = {
        var table: [String: (family: String, ignoreMerges: Bool)] = [:]
        // LLAMA_VOCAB_PRE_TYPE_GPT2 / MPT / OLMO / JAIS / TRILLION / GRANITE_DOCLING: the GPT-2 regex alone.
        for name in ["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                     "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais",
                     "trillion", "granite-docling", "gpt2"] {  // "gpt2": PhiKit's own earlier name for the same
            table[name] = ("gpt2", false)
        }
        // LLAMA3 (ignore_merges on), DBRX and SMAUG (same regex, merges always applied).
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                     "jina-v5-nano"] {
            table[name] = ("llama-bpe", true)
        }
        for name in ["dbrx", "smaug-bpe"] { table[name] = ("llama-bpe", false) }
        // GPT4O / MINIMAX_M2: the o200k regex. gpt-4o keeps ignore_merges on, as Phi-4's tokenizer.json has it.
        table["gpt-4o"] = ("gpt-4o", true)
        for name in ["llama4", "kanana2", "talkie", "minimax-m2"] { table[name] = ("gpt-4o", false) }
        // STARCODER / REFACT / COMMAND_R / SMOLLM / CODESHELL / EXAONE / MINERVA / MELLUM2: digits, then GPT-2.
        for name in ["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"] {
            table[name] = ("smollm", false)
        }
        table["default"] = ("default", false)
        return table
    }()

    /// llama.cpp pre-tokenizer names whose regexes PhiKit does not implement: refused by name.
    public static let unsupportedPreTokenizers: Set<String> = [
        "minicpm5", "deepseek-llm", "deepseek-coder", "deepseek-v3", "spark2_5", "youtu", "falcon", "jais-2", "gemma4",
        "granite-embed-multi-311m", "sarvam-moe", "whitespace", "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2",
        "qwen35", "stablelm2", "poro-chat", "glm4", "chatglm-bpe", "viking", "tekken", "bloom", "gpt3-finnish",
        "exaone-moe", "chameleon", "megrez", "granite-embed-multi-97m", "tiny_aya", "cohere2moe", "superbpe",
        "bailingmoe", "bailingmoe2", "llada-moe", "seed-coder", "hunyuan", "hunyuan-dense", "hy_v4", "joyai-llm",
        "kimi-k2", "ufakzeka", "grok-2", "afmoe", "laguna", "solar-open",
    ]

    /// GGUF pre-tokenizer names PhiKit understands.
    public static var knownPreTokenizers: [String] { preTokenizerFamilies.keys.sorted() }

    static func preTokenizer(_ name: String, file: String) throws -> (tokenizer: PreTokenizer, ignoreMerges: Bool) {
        guard let entry = preTokenizerFamilies[name] else {
            let supported = "gpt-4o, llama-bpe (and the other Llama-3 names), smollm, gpt-2, default; see GGUFTokenizer.preTokenizerFamilies"
            let detail = unsupportedPreTokenizers.contains(name)
                ? "pre-tokenizer '\(name)' is a llama.cpp pre-tokenizer PhiKit does not implement (supported: \(supported))"
                : "unknown pre-tokenizer '\(name)' (supported: \(supported))"
            throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.pre", detail: detail)
        }
        return (try PreTokenizer.named(entry.family), entry.ignoreMerges)
    }
}
