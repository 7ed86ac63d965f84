/// The text rewrites of SentencePiece-style tokenizers, applied to each text segment (the text between added
/// tokens) before the model sees it:
///
/// - HF `normalizer` `Prepend` (prefix every non-empty segment) and `Replace` with a `String` pattern (every
///   non-overlapping occurrence, left to right): Phi-3's `Prepend("▁")` + `Replace(" ", "▁")`;
/// - HF `pre_tokenizer` `Metaspace`: spaces become the replacement, which is prefixed unless the segment already
///   starts with it (`prepend_scheme` "always"; "first": only for the segment at the start of the input);
/// - llama.cpp's SPM input (`add_space_prefix`, then spaces escaped as `▁`), which is the Phi-3 normalizer.
struct TextNormalizer: Sendable {
    enum Step: Sendable, Equatable {
        case prepend([UInt8])
        case replace([UInt8], with: [UInt8])
        /// Metaspace's prefix: skipped when the text already starts with it, or (firstOnly) away from offset 0.
        case prependMissing([UInt8], firstOnly: Bool)
    }

    let steps: [Step]

    /// The space marker `▁` (U+2581).
    static let spaceMarker: [UInt8] = Array("\u{2581}".utf8)

    /// `Prepend("▁")` then `Replace(" ", "▁")`: Phi-3 / Llama-2 tokenizer.json, and llama.cpp's SPM input.
    static let sentencePiece = TextNormalizer(steps: [.prepend(spaceMarker), .replace([0x20], with: spaceMarker)])

    /// Rewrites the `n` bytes at `p` into `out` (replacing its contents). `offset` is where the segment starts in the
    /// caller's whole input (Metaspace "first" prefixes only at 0).
    func apply(_ p: UnsafePointer<UInt8>, _ n: Int, offset: Int, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        var scratch: [UInt8] = []
        for step in steps {
            switch step {
            case .prepend(let prefix):
                if !out.isEmpty { out.insert(contentsOf: prefix, at: 0) }
            case .prependMissing(let prefix, let firstOnly):
                if firstOnly && offset != 0 { continue }
                if !out.starts(with: prefix) { out.insert(contentsOf: prefix, at: 0) }
            case .replace(let pattern, let replacement):
                guard !pattern.isEmpty else { continue }
                scratch.removeAll(keepingCapacity: true)
                var i = 0
                let count = out.count
                out.withUnsafeBufferPointer { b in
                    while i < count {
                        if b[i] == pattern[0] && i + pattern.count <= count {
                            var k = 1
                            while k < pattern.count && b[i + k] == pattern[k] { k += 1 }
                            if k == pattern.count {
                                scratch.append(contentsOf: replacement)
                                i += k
                                continue
                            }
                        }
                        scratch.append(b[i])
                        i += 1
                    }
                }
                swap(&out, &scratch)
            }
        }
    }
}
