/// Incremental detokenizer: feed ids one at a time, get back only complete UTF-8 text.
///
/// The concatenation of all returned chunks plus `flush()` equals `Tokenizer.decode` of the same ids.
/// Byte-level tokenizers: an incomplete multi-byte sequence at the end is held back until the next ids complete it
/// (or `flush()`). SentencePiece-style tokenizers: `▁` becomes a space, the leading space of the text is stripped
/// (as the decoder's `Strip` does), and a run of `<0xXX>` byte tokens is held back until a non-byte token ends it
/// (HF decodes the run as a whole: one string if valid UTF-8, else one U+FFFD per byte token).
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecial: Bool
    private var pending: [UInt8] = []
    private var pieceState: PieceDecoder.State?

    init(tokenizer: Tokenizer, skipSpecial: Bool) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
        pieceState = tokenizer.pieceDecoder.map { PieceDecoder.State($0) }
    }

    /// Text completed by `id` (possibly empty).
    public mutating func append(_ id: Int) -> String {
        if let decoder = tokenizer.pieceDecoder, var state = pieceState {
            let text = tokenizer.decodePiece(id, skipSpecial: skipSpecial, decoder: decoder, state: &state)
            pieceState = state
            return text
        }
        tokenizer.appendBytes(of: id, skipSpecial: skipSpecial, to: &pending)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[0..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is held back, decoded with U+FFFD for the incomplete tail; resets the decoder.
    public mutating func flush() -> String {
        if let decoder = tokenizer.pieceDecoder, var state = pieceState {
            let text = decoder.finish(&state)
            pieceState = PieceDecoder.State(decoder)
            return text
        }
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Bytes that can be decoded now: everything except a trailing sequence that is a valid but incomplete prefix
    /// of a UTF-8 character (which more bytes could complete). Invalid bytes are not held: they decode to U+FFFD
    /// exactly as in a one-shot decode, because a held tail always starts at a lead byte.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        var start = n - 1
        while start >= 0 && start >= n - 3 && b[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return n }
        let lead = b[start]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n
        }
        let have = n - start
        guard have < need else { return n }
        if have >= 2 {
            let second = b[start + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = (0xA0...0xBF).contains(second)
            case 0xED: ok = (0x80...0x9F).contains(second)
            case 0xF0: ok = (0x90...0xBF).contains(second)
            case 0xF4: ok = (0x80...0x8F).contains(second)
            default: ok = (0x80...0xBF).contains(second)
            }
            if !ok { return n }
        }
        return start
    }
}
