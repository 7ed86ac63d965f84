import Foundation
import PhiJSON

/// Everything a `Tokenizer` is built from, whatever the source (tokenizer.json or a GGUF vocabulary).
struct TokenizerComponents {
    var vocab: [(String, Int)]
    var merges: [BPEMerge]
    var ignoreMerges: Bool
    var unkToken: String?
    var fuseUnk: Bool
    var preTokenizer: PreTokenizer
    var addedTokens: [AddedToken]
    var bosToken: String?
    var eosToken: String?
    var chatTemplate: String?
    var file: String
    /// tokenizer_config.json's `add_bos_token` (nil when absent).
    var addBOSToken: Bool? = nil
    /// False for SentencePiece-style vocabularies (plain UTF-8 strings with `▁`).
    var byteLevel = true
    var byteFallback = false
    var normalizer: TextNormalizer?
    var metaspace: TextNormalizer?
    var pieceDecoder: PieceDecoder?
    /// GGUF `llama` vocabularies: llama.cpp's SentencePiece model encodes instead of BPE merges.
    var sentencePiece: SentencePieceModel?
    /// Ids given directly (GGUF), taking precedence over `bosToken` / `eosToken`.
    var bosTokenID: Int?
    var eosTokenID: Int?
}

/// Interprets an HF tokenizer.json (+ tokenizer_config.json) as data. Unsupported component types throw
/// `TokenizerError.unsupportedComponent` naming the field and type, rather than encoding differently from HF.
///
/// Two families: byte-level BPE (a `ByteLevel` pre-tokenizer and decoder, no normalizer) and SentencePiece-style
/// BPE (no `ByteLevel`: `Prepend`/`Replace` normalizer or a `Metaspace` pre-tokenizer, `byte_fallback`, a decoder
/// of `Replace`/`Metaspace`, `ByteFallback`, `Fuse`, `Strip`), as Phi-3, Phi-3.5, Llama-2 and Mistral ship.
enum TokenizerJSONLoader {
    static func load(tokenizerJSON: Data, configJSON: Data?, file: String = "tokenizer.json",
                     configFile: String = "tokenizer_config.json") throws -> TokenizerComponents {
        let top = try object(tokenizerJSON, file: file)
        guard let model = top["model"] as? [String: Any] else {
            throw top["model"] == nil ? TokenizerError.missingField(file: file, field: "model")
                : TokenizerError.invalidField(file: file, field: "model", detail: "expected an object")
        }
        let type = (model["type"] as? String) ?? (model["merges"] != nil ? "BPE" : "(none)")
        guard type == "BPE" else { throw TokenizerError.unsupportedComponent(file: file, field: "model", type: type) }
        if let dropout = model["dropout"], !(dropout is NSNull), (dropout as? Double ?? 1) != 0 {
            throw TokenizerError.invalidField(file: file, field: "model.dropout", detail: "BPE dropout is not supported")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key], !(v is NSNull), (v as? String ?? "x") != "" {
                throw TokenizerError.invalidField(file: file, field: "model.\(key)", detail: "not supported (byte-level BPE only)")
            }
        }
        let byteFallback = try bool(model, "byte_fallback", file: file, prefix: "model.") == true
        var vocab: [(String, Int)] = []
        if let big = model["vocab"] as? JSONMembers {
            vocab.reserveCapacity(big.members.count)
            for (token, value) in big.members {
                guard let id = integer(value) else {
                    throw TokenizerError.invalidField(file: file, field: "model.vocab", detail: "id of '\(token)' is not an integer")
                }
                vocab.append((token, id))
            }
        } else if let small = model["vocab"] as? [String: Any] {
            for (token, value) in small {
                guard let id = integer(value) else {
                    throw TokenizerError.invalidField(file: file, field: "model.vocab", detail: "id of '\(token)' is not an integer")
                }
                vocab.append((token, id))
            }
        } else {
            throw model["vocab"] == nil ? TokenizerError.missingField(file: file, field: "model.vocab")
                : TokenizerError.invalidField(file: file, field: "model.vocab", detail: "expected an object")
        }
        let merges = try parseMerges(model["merges"], file: file)
        let unk = model["unk_token"] as? String

        let normalizer = try parseNormalizer(top["normalizer"], file: file)
        var steps: [PreTokenizer.Step] = []
        var metaspace: TextNormalizer?
        if let pre = top["pre_tokenizer"], !(pre is NSNull) {
            metaspace = try parseMetaspace(pre, into: &steps, file: file)
            if metaspace == nil { try parsePreTokenizer(pre, into: &steps, file: file, field: "pre_tokenizer") }
        }
        let byteLevel = steps.contains(where: { if case .byteLevel = $0 { return true } else { return false } })
        let pieceDecoder = try parseDecoder(top["decoder"], file: file, field: "decoder")
        if byteLevel {
            if normalizer != nil {
                throw TokenizerError.unsupportedComponent(file: file, field: "normalizer", type: "normalizer with a ByteLevel pre-tokenizer")
            }
            if byteFallback {
                throw TokenizerError.invalidField(file: file, field: "model.byte_fallback",
                                                  detail: "not supported with a ByteLevel pre-tokenizer")
            }
            if pieceDecoder != nil {
                throw TokenizerError.unsupportedComponent(file: file, field: "decoder", type: "SentencePiece decoder with a ByteLevel pre-tokenizer")
            }
        } else if pieceDecoder == nil {
            let kind = metaspace != nil ? "Metaspace" : steps.isEmpty ? "null" : "without ByteLevel"
            throw TokenizerError.unsupportedComponent(file: file, field: "pre_tokenizer", type: "\(kind) (with a ByteLevel decoder)")
        }
        try checkPostProcessor(top["post_processor"], file: file, field: "post_processor")

        var added: [AddedToken] = []
        if let list = top["added_tokens"], !(list is NSNull) {
            guard let array = list as? [Any] else {
                throw TokenizerError.invalidField(file: file, field: "added_tokens", detail: "expected an array")
            }
            for (i, entry) in array.enumerated() {
                added.append(try addedToken(entry, id: nil, file: file, field: "added_tokens[\(i)]"))
            }
        }
        var components = TokenizerComponents(
            vocab: vocab, merges: merges, ignoreMerges: try bool(model, "ignore_merges", file: file, prefix: "model.") ?? false,
            unkToken: unk, fuseUnk: try bool(model, "fuse_unk", file: file, prefix: "model.") ?? false,
            preTokenizer: PreTokenizer(steps: steps), addedTokens: added, bosToken: nil, eosToken: nil,
            chatTemplate: nil, file: file, byteLevel: byteLevel, byteFallback: byteFallback, normalizer: normalizer,
            metaspace: metaspace, pieceDecoder: pieceDecoder)
        if let configJSON {
            try applyConfig(configJSON, to: &components, file: configFile)
        }
        return components
    }

    // MARK: - tokenizer_config.json

    static func applyConfig(_ data: Data, to c: inout TokenizerComponents, file: String) throws {
        let config = try object(data, file: file)
        if let decoder = config["added_tokens_decoder"], !(decoder is NSNull) {
            var map: [String: Any] = [:]
            if let d = decoder as? [String: Any] {
                map = d
            } else if let big = decoder as? JSONMembers {
                map = Dictionary(big.members, uniquingKeysWith: { _, last in last })
            } else {
                throw TokenizerError.invalidField(file: file, field: "added_tokens_decoder", detail: "expected an object")
            }
            let known = Set(c.addedTokens.map(\.id))
            for key in map.keys.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
                guard let id = Int(key), id >= 0 else {
                    throw TokenizerError.invalidField(file: file, field: "added_tokens_decoder", detail: "key '\(key)' is not an id")
                }
                if known.contains(id) { continue }  // tokenizer.json is authoritative for ids it lists
                c.addedTokens.append(try addedToken(map[key] as Any, id: id, file: file, field: "added_tokens_decoder.\(key)"))
            }
        }
        c.addBOSToken = try bool(config, "add_bos_token", file: file, prefix: "")
        c.bosToken = try tokenContent(config["bos_token"], file: file, field: "bos_token")
        c.eosToken = try tokenContent(config["eos_token"], file: file, field: "eos_token")
        if let template = config["chat_template"], !(template is NSNull) {
            if let s = template as? String {
                c.chatTemplate = s
            } else if let list = template as? [[String: Any]] {
                let named = list.first { ($0["name"] as? String) == "default" } ?? list.first
                c.chatTemplate = named?["template"] as? String
            } else {
                throw TokenizerError.invalidField(file: file, field: "chat_template", detail: "expected a string or a list")
            }
        }
    }

    private static func tokenContent(_ value: Any?, file: String, field: String) throws -> String? {
        guard let value, !(value is NSNull) else { return nil }
        if let s = value as? String { return s }
        if let d = value as? [String: Any], let s = d["content"] as? String { return s }
        throw TokenizerError.invalidField(file: file, field: field, detail: "expected a string or {\"content\": ...}")
    }

    // MARK: - components

    private static func parseMerges(_ value: Any?, file: String) throws -> [BPEMerge] {
        guard let value, !(value is NSNull) else { return [] }
        guard let list = value as? [Any] else {
            throw TokenizerError.invalidField(file: file, field: "model.merges", detail: "expected an array")
        }
        var merges: [BPEMerge] = []
        merges.reserveCapacity(list.count)
        for (i, entry) in list.enumerated() {
            if let s = entry as? String {
                var spaces = 0
                for b in s.utf8 where b == 0x20 { spaces += 1 }
                guard spaces == 1 else {
                    throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", detail: "'\(s)' is not \"a b\"")
                }
                merges.append(.joined(s))
            } else if let pair = entry as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append(.pair(a, b))
            } else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", detail: "expected \"a b\" or [a, b]")
            }
        }
        return merges
    }

    /// Appends the steps of a pre-tokenizer (Sequences flattened with a work list, not recursion), at most
    /// `PreTokenizer.maxSteps` of them.
    private static func parsePreTokenizer(_ value: Any, into steps: inout [PreTokenizer.Step], file: String,
                                          field: String) throws {
        var work: [(Any, String)] = [(value, field)]
        var visited = 0
        while let (item, path) = work.popLast() {
            visited += 1
            guard visited <= 4 * PreTokenizer.maxSteps, steps.count <= PreTokenizer.maxSteps else {
                throw TokenizerError.invalidField(file: file, field: field,
                                                  detail: "more than \(PreTokenizer.maxSteps) pre-tokenizer steps")
            }
            if let d = item as? [String: Any], d["type"] as? String == "Sequence" {
                guard let list = d["pretokenizers"] as? [Any] else {
                    throw TokenizerError.missingField(file: file, field: "\(path).pretokenizers")
                }
                for (i, sub) in list.enumerated().reversed() { work.append((sub, "\(path).pretokenizers[\(i)]")) }
                continue
            }
            try parseStep(item, into: &steps, file: file, field: path)
        }
        guard steps.count <= PreTokenizer.maxSteps else {
            throw TokenizerError.invalidField(file: file, field: field,
                                              detail: "more than \(PreTokenizer.maxSteps) pre-tokenizer steps")
        }
    }

    /// One pre-tokenizer that is not a Sequence.
    private static func parseStep(_ value: Any, into steps: inout [PreTokenizer.Step], file: String, field: String) throws {
        guard let d = value as? [String: Any], let type = d["type"] as? String else {
            throw TokenizerError.invalidField(file: file, field: field, detail: "expected an object with a 'type'")
        }
        switch type {
        case "ByteLevel":
            steps.append(.byteLevel(addPrefixSpace: try bool(d, "add_prefix_space", file: file, prefix: field + ".") ?? true,
                                    useRegex: try bool(d, "use_regex", file: file, prefix: field + ".") ?? true))
        case "Digits":
            let individual = try bool(d, "individual_digits", file: file, prefix: field + ".") ?? false
            steps.append(.split(.numeric, individual ? .isolated : .contiguous, invert: false))
        case "Split":
            let matcher: PreTokenizer.Matcher
            if let p = d["pattern"] as? [String: Any], let regex = p["Regex"] as? String {
                matcher = try PreTokenizer.Matcher.forPattern(regex)
            } else if let p = d["pattern"] as? [String: Any], let literal = p["String"] as? String {
                matcher = .literal(Array(literal.utf8))
            } else {
                throw TokenizerError.invalidField(file: file, field: "\(field).pattern", detail: "expected {\"Regex\": ...} or {\"String\": ...}")
            }
            let name = d["behavior"] as? String ?? "(missing)"
            guard let behavior = PreTokenizer.Behavior(rawValue: name) else {
                throw TokenizerError.unsupportedComponent(file: file, field: "\(field).behavior", type: name)
            }
            steps.append(.split(matcher, behavior, invert: try bool(d, "invert", file: file, prefix: field + ".") ?? false))
        default:
            throw TokenizerError.unsupportedComponent(file: file, field: field, type: type)
        }
    }

    /// nil for the byte-level decoder (`ByteLevel`, alone or in a Sequence); the SentencePiece-style chain otherwise.
    private static func parseDecoder(_ value: Any?, file: String, field: String) throws -> PieceDecoder? {
        guard let value, !(value is NSNull) else {
            throw TokenizerError.unsupportedComponent(file: file, field: field, type: "null (ByteLevel required)")
        }
        var flat: [(String, [String: Any], String)] = []  // (type, object, field); Sequences flattened iteratively
        var work: [(Any, String)] = [(value, field)]
        var visited = 0
        while let (item, path) = work.popLast() {
            visited += 1
            guard visited <= 4 * maxRewriteSteps, flat.count <= maxRewriteSteps else {
                throw TokenizerError.invalidField(file: file, field: field, detail: "more than \(maxRewriteSteps) decoders")
            }
            guard let d = item as? [String: Any], let type = d["type"] as? String else {
                throw TokenizerError.invalidField(file: file, field: path, detail: "expected an object with a 'type'")
            }
            if type == "Sequence" {
                let list = d["decoders"] as? [Any] ?? []
                guard !list.isEmpty else { throw TokenizerError.unsupportedComponent(file: file, field: path, type: "empty Sequence") }
                for (i, sub) in list.enumerated().reversed() { work.append((sub, "\(path).decoders[\(i)]")) }
            } else {
                flat.append((type, d, path))
            }
        }
        if flat.allSatisfy({ $0.0 == "ByteLevel" }) { return nil }
        var steps: [PieceDecoder.Step] = []
        var byteFallback = false, fused = false
        var strip: (Unicode.Scalar, Int)?
        for (type, d, path) in flat {
            let late = byteFallback || fused || strip != nil  // per-token steps must come first
            switch type {
            case "Replace" where !late:
                guard let pattern = (d["pattern"] as? [String: Any])?["String"] as? String, let content = d["content"] as? String else {
                    throw TokenizerError.unsupportedComponent(file: file, field: path, type: "Replace without a String pattern")
                }
                steps.append(.replace(Array(pattern.utf8), with: Array(content.utf8)))
            case "Metaspace" where !late:
                let (marker, scheme) = try metaspaceSettings(d, file: file, field: path)
                steps.append(.metaspace(marker, dropInFirst: scheme != "never"))
            case "ByteFallback" where !byteFallback && !fused && strip == nil:
                byteFallback = true
            case "Fuse" where !fused && strip == nil:
                fused = true
            case "Strip" where fused && strip == nil:
                let content = d["content"] as? String ?? ""
                let start = d["start"].flatMap(integer) ?? -1, stop = d["stop"].flatMap(integer) ?? -1
                guard content.unicodeScalars.count == 1, let c = content.unicodeScalars.first, start >= 0, stop == 0 else {
                    throw TokenizerError.unsupportedComponent(file: file, field: path, type: "Strip other than leading characters")
                }
                strip = (c, start)
            case "ByteLevel":
                throw TokenizerError.unsupportedComponent(file: file, field: path, type: "ByteLevel mixed with SentencePiece decoders")
            default:
                throw TokenizerError.unsupportedComponent(file: file, field: path, type: late ? "\(type) (in this position)" : type)
            }
        }
        try checkRewriteLimits(steps.map { step -> RewriteCost in
            switch step {
            case .replace(let pattern, let content): return .replace(pattern.count, content.count)
            case .metaspace: return .replace(1, 1)  // the marker becomes one space (or nothing)
            }
        }, file: file, field: field, what: "decoders")
        return PieceDecoder(steps: steps, byteFallback: byteFallback, strip: strip)
    }

    /// HF `normalizer`: nil, or a Sequence of `Prepend` / `Replace` (String pattern): the SentencePiece rewrites.
    private static func parseNormalizer(_ value: Any?, file: String) throws -> TextNormalizer? {
        guard let value, !(value is NSNull) else { return nil }
        guard let d = value as? [String: Any], let type = d["type"] as? String else {
            throw TokenizerError.invalidField(file: file, field: "normalizer", detail: "expected an object with a 'type'")
        }
        let items: [(Any, String)]
        if type == "Sequence" {
            guard let list = d["normalizers"] as? [Any] else { throw TokenizerError.missingField(file: file, field: "normalizer.normalizers") }
            guard list.count <= maxRewriteSteps else {
                throw TokenizerError.invalidField(file: file, field: "normalizer.normalizers",
                                                  detail: "more than \(maxRewriteSteps) normalizers")
            }
            items = list.enumerated().map { ($1, "normalizer.normalizers[\($0)]") }
        } else {
            items = [(d, "normalizer")]
        }
        var steps: [TextNormalizer.Step] = []
        for (item, path) in items {
            guard let n = item as? [String: Any], let t = n["type"] as? String else {
                throw TokenizerError.invalidField(file: file, field: path, detail: "expected an object with a 'type'")
            }
            switch t {
            case "Prepend":
                guard let prefix = n["prepend"] as? String else { throw TokenizerError.missingField(file: file, field: "\(path).prepend") }
                steps.append(.prepend(Array(prefix.utf8)))
            case "Replace":
                guard let pattern = (n["pattern"] as? [String: Any])?["String"] as? String, let content = n["content"] as? String else {
                    throw TokenizerError.unsupportedComponent(file: file, field: path, type: "Replace without a String pattern")
                }
                steps.append(.replace(Array(pattern.utf8), with: Array(content.utf8)))
            default:
                throw TokenizerError.unsupportedComponent(file: file, field: path, type: t)
            }
        }
        try checkRewriteLimits(steps.map { step -> RewriteCost in
            switch step {
            case .prepend(let prefix), .prependMissing(let prefix, _): return .prefix(prefix.count)
            case .replace(let pattern, let content): return .replace(pattern.count, content.count)
            }
        }, file: file, field: "normalizer", what: "normalizers")
        return steps.isEmpty ? nil : TextNormalizer(steps: steps)
    }

    /// What one rewrite step can add to a text: a prefix of this many bytes, or a replacement of a pattern.
    enum RewriteCost {
        case prefix(Int)
        case replace(Int, Int)
    }

    /// Most bytes a rewrite chain (normalizer, decoder) may make of one byte: a chain of `Replace` steps each
    /// multiplying the text (`"a"` -> `"aa"`, 64 times) would otherwise ask for 2^64 bytes. Real chains grow a
    /// text at most 3 times (`" "` -> `"▁"`).
    static let maxRewriteExpansion = 16
    /// Most prefix bytes a rewrite chain may add (Prepend steps), and most steps in one.
    static let maxRewritePrefixBytes = 1024
    static let maxRewriteSteps = 64

    /// Refuses rewrite chains whose output could outgrow their input by more than `maxRewriteExpansion` times
    /// (plus `maxRewritePrefixBytes`), checked on the step list before any text is rewritten.
    static func checkRewriteLimits(_ steps: [RewriteCost], file: String, field: String, what: String) throws {
        guard steps.count <= maxRewriteSteps else {
            throw TokenizerError.invalidField(file: file, field: field, detail: "more than \(maxRewriteSteps) \(what)")
        }
        var factor = 1, prefix = 0
        for step in steps {
            switch step {
            case .prefix(let n):
                prefix += n * factor
            case .replace(let pattern, let content):
                guard pattern > 0 else { continue }
                let growth = max(1, (content + pattern - 1) / pattern)
                factor = min(factor * growth, maxRewriteExpansion + 1)
                prefix = min(prefix * growth, maxRewritePrefixBytes + 1)
            }
            if factor > maxRewriteExpansion || prefix > maxRewritePrefixBytes {
                throw TokenizerError.invalidField(
                    file: file, field: field,
                    detail: "the \(what) could make text more than \(maxRewriteExpansion) times longer (plus \(maxRewritePrefixBytes) bytes)")
            }
        }
    }

    /// A `Metaspace` pre-tokenizer (alone, or alone in a Sequence) as its rewrite, adding its split to `steps`;
    /// nil when the pre-tokenizer is something else.
    private static func parseMetaspace(_ value: Any, into steps: inout [PreTokenizer.Step], file: String) throws -> TextNormalizer? {
        guard let d = value as? [String: Any], let type = d["type"] as? String else { return nil }
        var m = d, field = "pre_tokenizer"
        if type == "Sequence", let list = d["pretokenizers"] as? [Any], list.count == 1, let only = list[0] as? [String: Any],
           only["type"] as? String == "Metaspace" {
            m = only
            field = "pre_tokenizer.pretokenizers[0]"
        } else if type != "Metaspace" {
            if type == "Sequence", let list = d["pretokenizers"] as? [Any],
               list.contains(where: { ($0 as? [String: Any])?["type"] as? String == "Metaspace" }) {
                throw TokenizerError.unsupportedComponent(file: file, field: "pre_tokenizer", type: "Metaspace combined with other pre-tokenizers")
            }
            return nil
        }
        let (marker, scheme) = try metaspaceSettings(m, file: file, field: field)
        let rep = Array(String(marker).utf8)
        var rewrite: [TextNormalizer.Step] = [.replace([0x20], with: rep)]
        if scheme != "never" { rewrite.append(.prependMissing(rep, firstOnly: scheme == "first")) }
        if try bool(m, "split", file: file, prefix: field + ".") ?? true {
            steps.append(.split(.literal(rep), .mergedWithNext, invert: false))
        }
        return TextNormalizer(steps: rewrite)
    }

    /// Metaspace `replacement` (one character) and `prepend_scheme` (or the older `add_prefix_space`).
    private static func metaspaceSettings(_ d: [String: Any], file: String, field: String) throws -> (Unicode.Scalar, String) {
        let replacement = d["replacement"] as? String ?? "\u{2581}"
        guard replacement.unicodeScalars.count == 1, let marker = replacement.unicodeScalars.first else {
            throw TokenizerError.invalidField(file: file, field: "\(field).replacement", detail: "expected one character")
        }
        var scheme = d["prepend_scheme"] as? String
        if scheme == nil, let add = try bool(d, "add_prefix_space", file: file, prefix: field + ".") { scheme = add ? "always" : "never" }
        let s = scheme ?? "always"
        guard ["always", "first", "never"].contains(s) else {
            throw TokenizerError.unsupportedComponent(file: file, field: "\(field).prepend_scheme", type: s)
        }
        return (marker, s)
    }

    /// Post-processors only add BOS/EOS-like tokens when asked; `encode` never does, so known types are accepted.
    /// Nested Sequences are walked with a work list (no recursion on input depth).
    private static func checkPostProcessor(_ value: Any?, file: String, field: String) throws {
        guard let value, !(value is NSNull) else { return }
        var work: [(Any, String)] = [(value, field)]
        var visited = 0
        while let (item, path) = work.popLast() {
            visited += 1
            guard visited <= 10_000 else {
                throw TokenizerError.invalidField(file: file, field: field, detail: "more than 10000 post-processors")
            }
            guard let d = item as? [String: Any], let type = d["type"] as? String else {
                throw TokenizerError.invalidField(file: file, field: path, detail: "expected an object with a 'type'")
            }
            switch type {
            case "ByteLevel", "TemplateProcessing", "RobertaProcessing", "BertProcessing": continue
            case "Sequence":
                for (i, sub) in (d["processors"] as? [Any] ?? []).enumerated() { work.append((sub, "\(path).processors[\(i)]")) }
            default:
                throw TokenizerError.unsupportedComponent(file: file, field: path, type: type)
            }
        }
    }

    private static func addedToken(_ value: Any, id: Int?, file: String, field: String) throws -> AddedToken {
        guard let d = value as? [String: Any] else {
            throw TokenizerError.invalidField(file: file, field: field, detail: "expected an object")
        }
        guard let content = d["content"] as? String else { throw TokenizerError.missingField(file: file, field: "\(field).content") }
        guard let tokenID = id ?? d["id"].flatMap(integer), tokenID >= 0, tokenID < Int(Int32.max) else {
            throw TokenizerError.invalidField(file: file, field: "\(field).id", detail: "missing or not a valid id")
        }
        let special = try bool(d, "special", file: file, prefix: field + ".") ?? false
        return AddedToken(id: tokenID, content: content, special: special,
                          lstrip: try bool(d, "lstrip", file: file, prefix: field + ".") ?? false,
                          rstrip: try bool(d, "rstrip", file: file, prefix: field + ".") ?? false,
                          singleWord: try bool(d, "single_word", file: file, prefix: field + ".") ?? false,
                          normalized: try bool(d, "normalized", file: file, prefix: field + ".") ?? !special)
    }

    // MARK: - JSON helpers

    static func object(_ data: Data, file: String) throws -> [String: Any] {
        let parsed: Any
        do {
            parsed = try FoundationJSON.parse(data)
        } catch {
            throw TokenizerError.invalidJSON(file: file, detail: "\(error)")
        }
        guard let object = parsed as? [String: Any] else {
            throw TokenizerError.invalidJSON(file: file, detail: "top level is not an object")
        }
        return object
    }

    private static func integer(_ value: Any) -> Int? {
        if value is Bool { return nil }
        if let i = value as? Int { return i }
        if let d = value as? Double, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }

    private static func bool(_ d: [String: Any], _ key: String, file: String, prefix: String) throws -> Bool? {
        guard let v = d[key], !(v is NSNull) else { return nil }
        guard let b = v as? Bool else {
            throw TokenizerError.invalidField(file: file, field: prefix + key, detail: "expected true or false")
        }
        return b
    }
}
