import Foundation
import PhiFiles

/// A BPE tokenizer interpreted from an HF tokenizer.json (or a GGUF vocabulary), matching HF `tokenizers` ids
/// exactly: byte-level BPE (Phi-4, GPT-2, Llama-3) and SentencePiece-style BPE (Phi-3, Llama-2: `▁` for spaces,
/// `<0xXX>` byte fallback); GGUF `llama` vocabularies run llama.cpp's SentencePiece algorithm (`SentencePieceModel`).
///
/// Encoding pipeline per text segment (the text between added tokens): `normalizer` (SentencePiece prefix and
/// space marker), normalized added tokens, `metaspace`, `preTokenizer`, then the model.
///
/// Safety rule: `encode` never turns text into added/control tokens unless the caller passes `parseSpecial: true`
/// (which reproduces HF's added-token matching, including `lstrip`/`rstrip` whitespace absorption).
/// Immutable after init; `encode`/`decode` may be called from any thread.
public final class Tokenizer: @unchecked Sendable {
    let bpe: BPEModel
    /// Set for GGUF `llama` vocabularies: llama.cpp's score-based SentencePiece BPE replaces `bpe` for encoding.
    let sentencePiece: SentencePieceModel?
    public let preTokenizer: PreTokenizer
    /// HF `normalizer` (nil = identity, the byte-level case).
    let normalizer: TextNormalizer?
    /// HF `Metaspace` pre-tokenizer's rewrite (its split, if any, is in `preTokenizer`).
    let metaspace: TextNormalizer?
    /// The SentencePiece-style decoder; nil for byte-level tokenizers (their bytes are the text).
    let pieceDecoder: PieceDecoder?
    /// With `pieceDecoder`: each id's text after the decoder's per-token steps, and its fallback byte (-1: none).
    private let pieceTexts: [String]
    private let pieceBytes: [Int16]
    /// With `pieceDecoder`: each id's string as stored (vocabulary entry or added-token content).
    private let pieceRaw: [String]
    /// Added tokens, in id order.
    public let addedTokens: [AddedToken]
    private let addedByContent: [String: AddedToken]
    private let addedMatcher: AddedTokenMatcher
    /// Decoded bytes of every id: `decodeBytes[decodeOffsets[id] ..< decodeOffsets[id + 1]]`.
    let decodeOffsets: [Int]
    let decodeBytes: [UInt8]
    let hasString: [Bool]
    let specialFlags: [Bool]
    public let vocabularySize: Int
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    /// The tokenizer_config `chat_template` (Jinja source), kept as data.
    public let chatTemplate: String?
    /// The tokenizer_config `add_bos_token` (nil when absent), so the file is read once, here.
    public let addsBOSToken: Bool?

    /// Ids must be below this (tables are dense in the id); larger ids in a file are rejected, not allocated.
    public static let maxVocabularySize = 1 << 24
    /// Ids beyond the entries present: every table is dense in the id (about 30 bytes per id), so one entry with
    /// id 16,777,215 would cost 444 MB. Ids must stay below `idSlackFactor` × entries + `idSlack`: real
    /// vocabularies are dense (Phi-4's 200,064 rows hold 200,029 entries; padded and reserved rows are a few
    /// hundred), and tiny test vocabularies with special tokens at real ids (~200,000) stay within the slack.
    public static let idSlack = 1 << 18
    public static let idSlackFactor = 2

    /// Refuses ids that are negative, above `maxVocabularySize`, or far beyond the number of entries, before any
    /// table sized by the largest id is allocated.
    static func checkIDRange(_ c: TokenizerComponents) throws {
        var maxID = -1
        var ids = Set<Int>()
        ids.reserveCapacity(c.vocab.count + c.addedTokens.count)
        for (token, id) in c.vocab {
            guard id >= 0 && id < maxVocabularySize else {
                throw TokenizerError.invalidField(file: c.file, field: "model.vocab", detail: "id \(id) of '\(token)' out of range")
            }
            maxID = max(maxID, id)
            ids.insert(id)
        }
        for t in c.addedTokens {
            guard t.id < maxVocabularySize else {
                throw TokenizerError.invalidField(file: c.file, field: "model.vocab / added_tokens",
                                                  detail: "id \(t.id) exceeds the supported maximum \(maxVocabularySize - 1)")
            }
            maxID = max(maxID, t.id)
            ids.insert(t.id)
        }
        let bound = idSlackFactor * ids.count + idSlack
        guard maxID < bound else {
            throw TokenizerError.invalidField(
                file: c.file, field: "model.vocab / added_tokens",
                detail: "id \(maxID) is far beyond the \(ids.count) entries (ids must stay below \(idSlackFactor) × entries + \(idSlack) = \(bound); every table is dense in the id)")
        }
    }

    private let scratchLock = NSLock()
    private var spareScratch: EncodeScratch?

    /// Loads `tokenizer.json` and, when present, `tokenizer_config.json` and `chat_template.jinja` from `directory`.
    /// Each is opened as `SafeFile` does (regular files only, without blocking, size checked before reading), so a
    /// FIFO or device in a model folder is an error, not a hang.
    public convenience init(directory: URL) throws {
        let jsonURL = directory.appendingPathComponent("tokenizer.json")
        guard let json = try Self.readFile(jsonURL, limit: Self.maxFileBytes, optional: false) else {
            throw TokenizerError.fileNotFound(path: jsonURL.path)
        }
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let config = try Self.readFile(configURL, limit: Self.maxFileBytes, optional: true)
        var components = try TokenizerJSONLoader.load(tokenizerJSON: json, configJSON: config,
                                                      file: jsonURL.path, configFile: configURL.path)
        if components.chatTemplate == nil,
           let data = try Self.readFile(directory.appendingPathComponent("chat_template.jinja"), limit: Self.maxFileBytes,
                                        optional: true) {
            components.chatTemplate = String(decoding: data, as: UTF8.self)
        }
        try self.init(components: components)
    }

    /// Largest tokenizer file read (the JSON parser's own limit; Phi-4's tokenizer.json is 15 MB).
    public static let maxFileBytes = 256 << 20

    /// The file's bytes; nil when `optional` and nothing exists at the path (a broken symlink counts as absent).
    static func readFile(_ url: URL, limit: Int, optional: Bool) throws -> Data? {
        if optional && !FileManager.default.fileExists(atPath: url.path) { return nil }
        do throws(SafeFileError) {
            return try SafeFile.read(url, limit: limit)
        } catch {
            if case .cannotOpen(_, "no such file") = error { throw TokenizerError.fileNotFound(path: url.path) }
            throw TokenizerError.unreadableFile(path: url.path, reason: error.reason)
        }
    }

    /// Builds from the contents of tokenizer.json and (optionally) tokenizer_config.json.
    public convenience init(tokenizerJSON: Data, tokenizerConfigJSON: Data?) throws {
        try self.init(components: try TokenizerJSONLoader.load(tokenizerJSON: tokenizerJSON, configJSON: tokenizerConfigJSON))
    }

    init(components c: TokenizerComponents) throws {
        try Self.checkIDRange(c)
        bpe = try BPEModel(vocab: c.vocab, merges: c.merges, ignoreMerges: c.ignoreMerges, unkToken: c.unkToken,
                           fuseUnk: c.fuseUnk, byteLevel: c.byteLevel, byteFallback: c.byteFallback, file: c.file)
        sentencePiece = c.sentencePiece
        preTokenizer = c.preTokenizer
        addsBOSToken = c.addBOSToken
        normalizer = c.normalizer
        metaspace = c.metaspace
        pieceDecoder = c.pieceDecoder
        var byID: [Int: AddedToken] = [:]
        for t in c.addedTokens { byID[t.id] = t }
        addedTokens = byID.values.sorted { $0.id < $1.id }
        var byContent: [String: AddedToken] = [:]
        for t in addedTokens where byContent[t.content] == nil { byContent[t.content] = t }
        addedByContent = byContent
        addedMatcher = AddedTokenMatcher(addedTokens)

        var maxID = -1
        for (_, id) in c.vocab { maxID = max(maxID, id) }
        for t in addedTokens { maxID = max(maxID, t.id) }
        guard maxID < Self.maxVocabularySize else {
            throw TokenizerError.invalidField(file: c.file, field: "model.vocab / added_tokens",
                                              detail: "id \(maxID) exceeds the supported maximum \(Self.maxVocabularySize - 1)")
        }
        vocabularySize = maxID + 1
        var strings = [String?](repeating: nil, count: vocabularySize)
        for (token, id) in c.vocab { strings[id] = token }
        for t in addedTokens { strings[t.id] = t.content }
        let specialContents = Set(addedTokens.filter(\.special).map(\.content))
        var offsets = [Int](repeating: 0, count: vocabularySize + 1)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vocabularySize * 8)
        var flags = [Bool](repeating: false, count: vocabularySize)
        var texts: [String] = []
        var fallback: [Int16] = []
        if let decoder = c.pieceDecoder {
            texts = [String](repeating: "", count: vocabularySize)
            fallback = [Int16](repeating: -1, count: vocabularySize)
            for id in 0..<vocabularySize {
                guard let s = strings[id] else { continue }
                texts[id] = decoder.map(s, index: 1)
                if decoder.byteFallback, let b = PieceDecoder.fallbackByte(texts[id]) { fallback[id] = Int16(b) }
            }
        }
        let addedIDs = Set(addedTokens.map(\.id))
        for id in 0..<vocabularySize {
            if let s = strings[id] {
                if c.pieceDecoder == nil {
                    bytes.append(contentsOf: ByteLevel.decodedBytes(of: s))
                } else if addedIDs.contains(id) {
                    bytes.append(contentsOf: s.utf8)
                } else if fallback[id] >= 0 {
                    bytes.append(UInt8(truncatingIfNeeded: fallback[id]))
                } else {
                    bytes.append(contentsOf: texts[id].utf8)
                }
                flags[id] = specialContents.contains(s)
            }
            offsets[id + 1] = bytes.count
        }
        pieceTexts = texts
        pieceBytes = fallback
        pieceRaw = c.pieceDecoder == nil ? [] : strings.map { $0 ?? "" }
        decodeOffsets = offsets
        decodeBytes = bytes
        hasString = strings.map { $0 != nil }
        specialFlags = flags
        chatTemplate = c.chatTemplate
        _ = UnicodeTable.shared  // built once per process (~30 ms); here rather than in the first encode
        let model = bpe
        bosTokenID = c.bosTokenID ?? c.bosToken.flatMap { byContent[$0]?.id ?? model.tokenID($0) }
        eosTokenID = c.eosTokenID ?? c.eosToken.flatMap { byContent[$0]?.id ?? model.tokenID($0) }
    }

    // MARK: - Encoding

    /// Token ids of `text`. With `parseSpecial: false` (the default) added-token text such as `<|end|>` is encoded
    /// as ordinary text; with `true`, added tokens are matched in the raw text first, exactly as HF does.
    public func encode(_ text: String, parseSpecial: Bool = false) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        var text = text
        text.withUTF8 { buf in
            guard let p = buf.baseAddress, buf.count > 0 else { return }
            if normalizer != nil {
                // The normalized-token pass must see normalized text, so the raw pass runs here alone.
                let segments = parseSpecial && !addedMatcher.isEmpty ? addedMatcher.rawSegments(p, buf.count)
                    : [.text(0, buf.count)]
                for segment in segments {
                    switch segment {
                    case .token(let id): out.append(id)
                    case .text(let a, let b):
                        encodeNormalizing(p + a, b - a, offset: a, parseSpecial: parseSpecial, into: &out, scratch: scratch)
                    }
                }
            } else if parseSpecial && !addedMatcher.isEmpty {
                for segment in addedMatcher.segments(p, buf.count) {
                    switch segment {
                    case .token(let id): out.append(id)
                    case .text(let a, let b): encodeText(p + a, b - a, offset: a, into: &out, scratch: scratch)
                    }
                }
            } else {
                encodeText(p, buf.count, offset: 0, into: &out, scratch: scratch)
            }
        }
        return out
    }

    /// Normalizes one raw segment, splits it at normalized added tokens (with `parseSpecial`), encodes the rest.
    private func encodeNormalizing(_ p: UnsafePointer<UInt8>, _ n: Int, offset: Int, parseSpecial: Bool,
                                   into out: inout [Int], scratch: EncodeScratch) {
        guard let normalizer else { return }
        var buffer: [UInt8] = []
        normalizer.apply(p, n, offset: offset, into: &buffer)
        buffer.withUnsafeBufferPointer { b in
            guard let q = b.baseAddress, b.count > 0 else { return }
            guard parseSpecial && addedMatcher.hasNormalizedTokens else {
                encodeText(q, b.count, offset: offset, into: &out, scratch: scratch)
                return
            }
            for segment in addedMatcher.normalizedSegments(q, b.count) {
                switch segment {
                case .token(let id): out.append(id)
                case .text(let a, let e): encodeText(q + a, e - a, offset: offset + a, into: &out, scratch: scratch)
                }
            }
        }
    }

    /// Metaspace, pre-tokenizer and model on one (normalized) segment that starts at `offset` in the input.
    @inline(__always)
    private func encodeText(_ p: UnsafePointer<UInt8>, _ n: Int, offset: Int, into out: inout [Int],
                            scratch: EncodeScratch) {
        if let metaspace {
            var buffer: [UInt8] = []
            metaspace.apply(p, n, offset: offset, into: &buffer)
            buffer.withUnsafeBufferPointer { b in
                if let q = b.baseAddress, b.count > 0 { encodePieces(q, b.count, into: &out, scratch: scratch) }
            }
        } else {
            encodePieces(p, n, into: &out, scratch: scratch)
        }
    }

    @inline(__always)
    private func encodePieces(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int], scratch: EncodeScratch) {
        if let sentencePiece {
            sentencePiece.encode(p, n, into: &out)
            return
        }
        let bpe = self.bpe
        preTokenizer.forEachPiece(p, n) { q, m in
            bpe.encode(q, m, into: &out, scratch: scratch)
        }
    }

    private func takeScratch() -> EncodeScratch {
        scratchLock.lock()
        let s = spareScratch
        spareScratch = nil
        scratchLock.unlock()
        return s ?? EncodeScratch()
    }

    private func returnScratch(_ s: EncodeScratch) {
        scratchLock.lock()
        spareScratch = s
        scratchLock.unlock()
    }

    // MARK: - Decoding

    /// Text of `ids`: token bytes concatenated, invalid UTF-8 replaced by U+FFFD. Ids without a string (unused
    /// rows, out of range) contribute nothing; `skipSpecial` drops added tokens flagged `special`.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        if let decoder = pieceDecoder {
            var state = PieceDecoder.State(decoder)
            var text = ""
            for id in ids { text += decodePiece(id, skipSpecial: skipSpecial, decoder: decoder, state: &state) }
            return text + decoder.finish(&state)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids { appendBytes(of: id, skipSpecial: skipSpecial, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the decoded bytes of one id (nothing for unknown ids or skipped special tokens).
    @inline(__always)
    func appendBytes(of id: Int, skipSpecial: Bool, to bytes: inout [UInt8]) {
        guard id >= 0 && id < vocabularySize else { return }
        if skipSpecial && specialFlags[id] { return }
        let a = decodeOffsets[id], b = decodeOffsets[id + 1]
        if a < b { bytes.append(contentsOf: decodeBytes[a..<b]) }
    }

    /// One id through the SentencePiece-style decoder (nothing for unknown ids and skipped special tokens).
    func decodePiece(_ id: Int, skipSpecial: Bool, decoder: PieceDecoder, state: inout PieceDecoder.State) -> String {
        guard id >= 0 && id < vocabularySize && hasString[id] else { return "" }
        if skipSpecial && specialFlags[id] { return "" }
        if state.index == 0 && decoder.dependsOnIndex {
            let mapped = decoder.map(pieceRaw[id], index: 0)
            let byte = decoder.byteFallback ? PieceDecoder.fallbackByte(mapped) : nil
            return decoder.push(mapped: mapped, byte: byte, state: &state)
        }
        let b = pieceBytes[id]
        return decoder.push(mapped: pieceTexts[id], byte: b >= 0 ? UInt8(truncatingIfNeeded: b) : nil, state: &state)
    }

    /// The raw bytes of a token (empty if the id has no string).
    public func tokenBytes(_ id: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBytes(of: id, skipSpecial: false, to: &bytes)
        return bytes
    }

    /// Added-token content, or the token's decoded bytes as text (lossy); nil for ids without a string.
    public func tokenString(_ id: Int) -> String? {
        guard id >= 0 && id < vocabularySize && hasString[id] else { return nil }
        if let t = addedToken(id: id) { return t.content }
        return String(decoding: tokenBytes(id), as: UTF8.self)
    }

    /// Id of the added token with this exact content.
    public func specialTokenID(_ content: String) -> Int? { addedByContent[content]?.id }

    /// The added token with this content, with its flags.
    public func addedToken(_ content: String) -> AddedToken? { addedByContent[content] }

    private func addedToken(id: Int) -> AddedToken? {
        var lo = 0, hi = addedTokens.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if addedTokens[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < addedTokens.count && addedTokens[lo].id == id ? addedTokens[lo] : nil
    }

    /// True for ids whose token is an added token flagged `special` (what `skipSpecial` removes).
    public func isSpecial(_ id: Int) -> Bool { id >= 0 && id < vocabularySize && specialFlags[id] }

    public func makeStreamingDecoder(skipSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
    }
}
