/// The HF `decoder` of SentencePiece-style tokenizers, as a streaming state machine so that one-shot and
/// streaming decoding are the same code (and so give the same text).
///
/// Supported chains (in this order): per-token `Replace` (String pattern) / `Metaspace` steps, then `ByteFallback`,
/// then `Fuse`, then `Strip` of leading characters (`stop` 0; only after `Fuse`, where it strips the start of the
/// whole text). Phi-3 / Llama-2: `Replace("▁", " ")`, `ByteFallback`, `Fuse`, `Strip(" ", 1, 0)`.
///
/// `ByteFallback` semantics (HF): a run of consecutive `<0xXX>` tokens is decoded as one UTF-8 string if valid,
/// otherwise as one U+FFFD per byte token. A streaming decoder therefore holds a run back until a non-byte token
/// (or `flush`) ends it.
struct PieceDecoder: Sendable {
    enum Step: Sendable, Equatable {
        case replace([UInt8], with: [UInt8])
        /// Metaspace decoder: the replacement becomes a space, or is dropped in the first token when `dropInFirst`.
        case metaspace(Unicode.Scalar, dropInFirst: Bool)
    }

    let steps: [Step]
    let byteFallback: Bool
    /// Leading characters stripped from the whole text (after `Fuse`): (character, at most this many).
    let strip: (Unicode.Scalar, Int)?

    /// True when the first token decodes differently (a Metaspace step that drops its marker there).
    var dependsOnIndex: Bool {
        steps.contains { if case .metaspace(_, true) = $0 { return true } else { return false } }
    }

    /// Phi-3 / Llama-2 / llama.cpp SPM: `Replace("▁", " ")`, `ByteFallback`, `Fuse`, `Strip(" ", 1, 0)`.
    static func sentencePiece(stripLeadingSpace: Bool) -> PieceDecoder {
        PieceDecoder(steps: [.replace(TextNormalizer.spaceMarker, with: [0x20])], byteFallback: true,
                     strip: stripLeadingSpace ? (" ", 1) : nil)
    }

    /// One token's text after the per-token steps (`index` counts the tokens passed to the decoder). Works on
    /// UTF-8 bytes and scalars, as HF does on Rust `char`s (no grapheme or canonical-equivalence matching).
    func map(_ token: String, index: Int) -> String {
        var s = Array(token.utf8)
        var changed = false
        for step in steps {
            switch step {
            case .replace(let pattern, let content):
                var out: [UInt8] = []
                var i = 0
                var hit = false
                while i < s.count {
                    if !pattern.isEmpty && s[i] == pattern[0] && i + pattern.count <= s.count
                        && s[i..<(i + pattern.count)].elementsEqual(pattern) {
                        out.append(contentsOf: content)
                        i += pattern.count
                        hit = true
                    } else {
                        out.append(s[i])
                        i += 1
                    }
                }
                if hit {
                    s = out
                    changed = true
                }
            case .metaspace(let marker, let dropInFirst):
                let text = String(decoding: s, as: UTF8.self)
                guard text.unicodeScalars.contains(marker) else { continue }
                var t = String.UnicodeScalarView()
                for c in text.unicodeScalars {
                    if c == marker {
                        if !(dropInFirst && index == 0) { t.append(" ") }
                    } else {
                        t.append(c)
                    }
                }
                s = Array(String(t).utf8)
                changed = true
            }
        }
        return changed ? String(decoding: s, as: UTF8.self) : token
    }

    /// The byte of a `<0xXX>` token as HF's ByteFallback reads it (6 bytes, `<0x`, two radix-16 digits that Rust's
    /// `u8::from_str_radix` accepts, `>`), else nil.
    static func fallbackByte(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        func digit(_ c: UInt8) -> Int? {
            switch c {
            case 0x30...0x39: return Int(c - 0x30)
            case 0x41...0x46: return Int(c - 0x41 + 10)
            case 0x61...0x66: return Int(c - 0x61 + 10)
            default: return nil
            }
        }
        if u[3] == 0x2B, let d = digit(u[4]) { return UInt8(d) }  // from_str_radix takes a leading '+'
        guard let hi = digit(u[3]), let lo = digit(u[4]) else { return nil }
        return UInt8(hi * 16 + lo)
    }

    /// Decoding state: feed the tokens (after special-token skipping) in order, collect text.
    struct State: Sendable {
        var index = 0
        var run: [UInt8] = []
        var stripLeft: Int

        init(_ decoder: PieceDecoder) { stripLeft = decoder.strip?.1 ?? 0 }
    }

    /// Text completed by one token: `mapped` is `map(token, index:)` (precomputed by the tokenizer for index > 0),
    /// `byte` its fallback byte when `byteFallback` is on.
    func push(mapped: String, byte: UInt8?, state: inout State) -> String {
        state.index += 1
        if byteFallback, let byte {
            state.run.append(byte)
            return ""
        }
        var out = flushRun(&state)
        out += stripped(mapped, &state)
        return out
    }

    /// Whatever a pending byte run decodes to; ends the text.
    func finish(_ state: inout State) -> String { flushRun(&state) }

    private func flushRun(_ state: inout State) -> String {
        guard !state.run.isEmpty else { return "" }
        let text: String
        if let valid = String(validating: state.run, as: UTF8.self) {
            text = valid
        } else {
            text = String(repeating: "\u{FFFD}", count: state.run.count)
        }
        state.run.removeAll(keepingCapacity: true)
        return stripped(text, &state)
    }

    private func stripped(_ text: String, _ state: inout State) -> String {
        guard state.stripLeft > 0, let (c, _) = strip, !text.isEmpty else { return text }
        var s = Substring.UnicodeScalarView(text.unicodeScalars)
        while state.stripLeft > 0, let f = s.first {
            if f != c {
                state.stripLeft = 0
                break
            }
            s = s.dropFirst()
            state.stripLeft -= 1
        }
        if !s.isEmpty { state.stripLeft = 0 }
        return String(String.UnicodeScalarView(s))
    }
}
