import PhiTokenizer
import PhiWeights

/// The tokenizer stored in a GGUF file's metadata (`tokenizer.ggml.*`), as PhiTokenizer's byte-level BPE.
///
/// Only `tokenizer.ggml.model == "gpt2"` (byte-level BPE: GPT-2, Llama-3, Phi-4, SmolLM, ...) is supported.
/// `tokenizer.ggml.pre` picks the pre-tokenizer: `gpt-4o` (o200k, Phi-4), `llama-bpe` / `llama3` / `llama-v3`
/// (Llama-3), `smollm` (digits split, then the GPT-2 pattern), `gpt2` / `default` (GPT-2). A missing `pre` means
/// `default`, as in llama.cpp. (llama.cpp's own `default` adds a few splits to GPT-2's regex; no Phi or Llama file
/// uses it.) `ignore_merges` is on for `gpt-4o` and the Llama-3 names, matching their tokenizer.json files.
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
    }

    /// Phi-4 tool tokens that are added but not special in Microsoft's tokenizer.json.
    static let phi4NonSpecialTokens: Set<String> = [
        "<|tool|>", "<|/tool|>", "<|tool_call|>", "<|/tool_call|>", "<|tool_response|>", "<|tag|>",
    ]

    /// Builds the tokenizer from the file's vocabulary, merges, token types and pre-tokenizer name.
    public static func load(from file: GGUFFile) throws -> Tokenizer {
        let config = try configuration(from: file)
        let tokens = try file.stringArray("tokenizer.ggml.tokens")
        guard tokens.count <= Tokenizer.maxVocabularySize else {
            throw TokenizerError.invalidField(file: file.path, field: "tokenizer.ggml.tokens",
                                              detail: "\(tokens.count) tokens, more than \(Tokenizer.maxVocabularySize)")
        }
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

        var types: [Int32]?
        if file.hasKey("tokenizer.ggml.token_type") {
            let raw = try file.intArray("tokenizer.ggml.token_type")
            guard raw.count == tokens.count else {
                throw TokenizerError.invalidField(file: file.path, field: "tokenizer.ggml.token_type",
                                                  detail: "\(raw.count) types for \(tokens.count) tokens")
            }
            types = raw.map { Int32(clamping: $0) }
        }

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

    /// The special ids, flags and template, validated against the vocabulary size; throws for tokenizer models
    /// other than "gpt2" and for unknown pre-tokenizer names.
    public static func configuration(from file: GGUFFile) throws -> Configuration {
        let model = try file.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw TokenizerError.unsupportedComponent(file: file.path, field: "tokenizer.ggml.model", type: model)
        }
        let pre = try file.string("tokenizer.ggml.pre", default: "default")
        _ = try preTokenizer(pre, file: file.path)
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
            addBOSToken: try flag("tokenizer.ggml.add_bos_token"),
            addEOSToken: try flag("tokenizer.ggml.add_eos_token"),
            chatTemplate: chatTemplate(from: file))
    }

    /// `tokenizer.chat_template` (Jinja source), when present and a string.
    public static func chatTemplate(from file: GGUFFile) -> String? {
        file.value("tokenizer.chat_template")?.stringValue
    }

    /// GGUF pre-tokenizer names PhiKit understands.
    public static let knownPreTokenizers = ["gpt-4o", "llama-bpe", "llama3", "llama-v3", "smollm", "gpt2", "default"]

    static func preTokenizer(_ name: String, file: String) throws -> (tokenizer: PreTokenizer, ignoreMerges: Bool) {
        switch name {
        case "gpt-4o": return (try PreTokenizer.named("gpt-4o"), true)
        case "llama-bpe", "llama3", "llama-v3": return (try PreTokenizer.named("llama-bpe"), true)
        case "smollm": return (try PreTokenizer.named("smollm"), false)
        case "gpt2", "default": return (try PreTokenizer.named("gpt2"), false)
        default:
            throw TokenizerError.invalidField(
                file: file, field: "tokenizer.ggml.pre",
                detail: "unknown pre-tokenizer '\(name)' (PhiKit knows \(knownPreTokenizers.joined(separator: ", ")))")
        }
    }
}
