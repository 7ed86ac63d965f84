import Foundation

/// The pre-tokenizer: splits text (UTF-8 bytes) into pieces that BPE encodes independently.
///
/// Mirrors the HF `pre_tokenizer` components PhiTokenizer supports: `Split` (Regex or String pattern, any behavior,
/// `invert`), `ByteLevel` (`add_prefix_space`, `use_regex` = GPT-2 regex), `Digits`, and `Sequence` of those.
/// The o200k (Phi-4, GGUF `gpt-4o`), Llama-3 (`llama-bpe`) and GPT-2 patterns run on hand-coded matchers;
/// any other regex runs on `RegexMatcher`, a Pike VM whose time is linear in the text whatever the pattern.
public struct PreTokenizer: Sendable {
    /// tiktoken `o200k_base` pattern (Phi-4, GPT-4o).
    public static let o200kPattern = O200kPattern.pattern
    /// Llama-3 pattern (cl100k-style).
    public static let llama3Pattern = Llama3Pattern.pattern
    /// GPT-2 pattern (the one behind `ByteLevel(use_regex: true)`).
    public static let gpt2Pattern = GPT2Pattern.pattern

    enum Behavior: String, Sendable {
        case isolated = "Isolated", removed = "Removed", mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
    }

    enum Matcher: Sendable {
        case o200k, llama3, gpt2
        case regex(RegexMatcher)
        case literal([UInt8])
        /// Every `\p{N}` scalar is its own match (HF `Digits`).
        case numeric

        static func forPattern(_ pattern: String) throws -> Matcher {
            switch pattern {
            case O200kPattern.pattern: return .o200k
            case Llama3Pattern.pattern: return .llama3
            case GPT2Pattern.pattern: return .gpt2
            default: return .regex(try RegexMatcher(pattern: pattern))
            }
        }
    }

    enum Step: Sendable {
        case split(Matcher, Behavior, invert: Bool)
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    }

    let steps: [Step]
    /// Set when the whole pipeline is one isolated split by a hand-coded matcher (the hot path).
    let fastMatcher: Matcher?
    /// Set when the pipeline never splits (each segment is one piece).
    let isIdentity: Bool

    init(steps: [Step]) {
        self.steps = steps
        let effective = steps.filter {
            if case .byteLevel(false, false) = $0 { return false }
            return true
        }
        isIdentity = effective.isEmpty
        var fast: Matcher?
        if effective.count == 1 {
            switch effective[0] {
            case .split(let m, .isolated, invert: false):
                switch m {
                case .o200k, .llama3, .gpt2: fast = m
                default: break
                }
            case .byteLevel(addPrefixSpace: false, useRegex: true):
                fast = .gpt2
            default: break
            }
        }
        fastMatcher = fast
    }

    /// `Split(Regex pattern, Isolated)` followed by `ByteLevel(add_prefix_space: false, use_regex: false)`, the
    /// layout of tiktoken-converted tokenizers (Phi-4, Llama-3).
    public init(splitPattern: String) throws {
        self.init(steps: [.split(try Matcher.forPattern(splitPattern), .isolated, invert: false),
                          .byteLevel(addPrefixSpace: false, useRegex: false)])
    }

    /// GPT-2 style `ByteLevel(use_regex: true)`.
    public static func byteLevel(addPrefixSpace: Bool = false) -> PreTokenizer {
        PreTokenizer(steps: [.byteLevel(addPrefixSpace: addPrefixSpace, useRegex: true)])
    }

    /// llama.cpp's `LLAMA_VOCAB_PRE_TYPE_DEFAULT` regexes, applied in turn (each splits the pieces of the previous
    /// one, matches and gaps kept): punctuation runs, the GPT-2 pattern, digit runs, then groups of three digits.
    static let llamaCppDefaultPatterns = [#"[\p{P}\$\+<=>\^~\|]+"#, GPT2Pattern.pattern, #"\p{N}+"#, "[0-9][0-9][0-9]"]

    /// The pre-tokenizer for a pre-tokenizer family name: `gpt-4o` (o200k, Phi-4), `llama-bpe` / `llama3` /
    /// `llama-v3` (Llama-3 pattern), `smollm` (`Digits(individual)` + GPT-2 ByteLevel), `gpt2` (GPT-2 ByteLevel),
    /// `default` (llama.cpp's default for byte-level vocabularies without a `tokenizer.ggml.pre`). GGUF files name
    /// many more; `GGUFTokenizer` maps llama.cpp's names onto these families.
    public static func named(_ name: String) throws -> PreTokenizer {
        switch name {
        case "gpt-4o": return try PreTokenizer(splitPattern: O200kPattern.pattern)
        case "llama-bpe", "llama3", "llama-v3": return try PreTokenizer(splitPattern: Llama3Pattern.pattern)
        case "smollm":
            return PreTokenizer(steps: [.split(.numeric, .isolated, invert: false),
                                        .byteLevel(addPrefixSpace: false, useRegex: true)])
        case "gpt2": return .byteLevel()
        case "default":
            var steps: [Step] = try llamaCppDefaultPatterns.map { .split(try Matcher.forPattern($0), .isolated, invert: false) }
            steps.append(.byteLevel(addPrefixSpace: false, useRegex: false))
            return PreTokenizer(steps: steps)
        default: throw TokenizerError.unknownPreTokenizerName(name)
        }
    }

    /// The pieces of `text` (for inspection and tests; the encoder works on bytes).
    public func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var text = text
        text.withUTF8 { buf in
            guard let base = buf.baseAddress, buf.count > 0 else { return }
            forEachPiece(base, buf.count) { p, n in
                pieces.append(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
            }
        }
        return pieces
    }

    /// Calls `body` with each non-empty piece of the `n` bytes at `p` (valid UTF-8, n > 0).
    @inline(__always)
    func forEachPiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ body: (UnsafePointer<UInt8>, Int) -> Void) {
        if isIdentity {
            body(p, n)
            return
        }
        if let fast = fastMatcher {
            let table = UnicodeTable.shared
            var i = 0
            switch fast {
            case .o200k:
                while i < n {
                    let e = O200kPattern.matchEnd(p, n, i, table)
                    body(p + i, e - i)
                    i = e
                }
            case .llama3:
                while i < n {
                    let e = Llama3Pattern.matchEnd(p, n, i, table)
                    body(p + i, e - i)
                    i = e
                }
            default:
                while i < n {
                    let e = GPT2Pattern.matchEnd(p, n, i, table)
                    body(p + i, e - i)
                    i = e
                }
            }
            return
        }
        applySteps(p, n, body)
    }

    /// Most steps a pipeline may have (`TokenizerJSONLoader` refuses more): the steps run in a loop, one pass per
    /// step over all pieces, so nothing here recurses with the depth of the input.
    static let maxSteps = 64

    /// The general pipeline: each step rewrites the list of pieces (in order), then `body` sees the final pieces.
    private func applySteps(_ p: UnsafePointer<UInt8>, _ n: Int, _ body: (UnsafePointer<UInt8>, Int) -> Void) {
        var pieces: [(UnsafePointer<UInt8>, Int)] = [(p, n)]
        var owned: [UnsafeMutablePointer<UInt8>] = []  // prefixed copies (ByteLevel add_prefix_space)
        defer { for buffer in owned { buffer.deallocate() } }
        let table = UnicodeTable.shared
        for step in steps {
            var next: [(UnsafePointer<UInt8>, Int)] = []
            next.reserveCapacity(pieces.count)
            for (q, m) in pieces where m > 0 {
                switch step {
                case .byteLevel(let addPrefixSpace, let useRegex):
                    var base = q, count = m
                    if addPrefixSpace && q[0] != 0x20 {
                        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: m + 1)
                        owned.append(copy)
                        copy[0] = 0x20
                        (copy + 1).update(from: q, count: m)
                        base = UnsafePointer(copy)
                        count = m + 1
                    }
                    guard useRegex else {
                        next.append((base, count))
                        continue
                    }
                    var i = 0
                    while i < count {
                        let e = GPT2Pattern.matchEnd(base, count, i, table)
                        next.append((base + i, e - i))
                        i = e
                    }
                case .split(let matcher, let behavior, let invert):
                    let matches = Self.matches(matcher, q, m)
                    for (s, e) in Self.pieces(matches: matches, count: m, behavior: behavior, invert: invert) {
                        next.append((q + s, e - s))
                    }
                }
            }
            pieces = next
        }
        for (q, m) in pieces where m > 0 { body(q, m) }
    }

    /// All matches of `matcher` in the bytes, in order (possibly empty ranges, like HF's `find_matches`).
    static func matches(_ matcher: Matcher, _ p: UnsafePointer<UInt8>, _ n: Int) -> [(Int, Int)] {
        let table = UnicodeTable.shared
        var out: [(Int, Int)] = []
        var i = 0
        switch matcher {
        case .o200k:
            while i < n { let e = O200kPattern.matchEnd(p, n, i, table); out.append((i, e)); i = e }
        case .llama3:
            while i < n { let e = Llama3Pattern.matchEnd(p, n, i, table); out.append((i, e)); i = e }
        case .gpt2:
            while i < n { let e = GPT2Pattern.matchEnd(p, n, i, table); out.append((i, e)); i = e }
        case .regex(let regex):
            out = regex.matches(p, n)
        case .literal(let needle):
            guard !needle.isEmpty else { return [] }
            while i + needle.count <= n {
                var k = 0
                while k < needle.count && p[i + k] == needle[k] { k += 1 }
                if k == needle.count {
                    out.append((i, i + k))
                    i += k
                } else {
                    i += 1
                }
            }
        case .numeric:
            while i < n {
                let (c, l) = readScalar(p, i, n)
                if table.flags(c) & UnicodeTable.number != 0 { out.append((i, i + l)) }
                i += l
            }
        }
        return out
    }

    /// HF `NormalizedString::split`: matches and gaps combined per `behavior`, empties dropped.
    static func pieces(matches: [(Int, Int)], count n: Int, behavior: Behavior, invert: Bool) -> [(Int, Int)] {
        var parts: [(Int, Int, Bool)] = []  // (start, end, isMatch)
        var prev = 0
        for (s, e) in matches {
            if prev != s { parts.append((prev, s, invert)) }
            parts.append((s, e, !invert))
            prev = e
        }
        if prev != n { parts.append((prev, n, invert)) }
        var out: [(Int, Int)] = []
        switch behavior {
        case .isolated:
            out = parts.map { ($0.0, $0.1) }
        case .removed:
            out = parts.filter { !$0.2 }.map { ($0.0, $0.1) }
        case .contiguous:
            var previousMatch = false
            for (s, e, isMatch) in parts {
                if isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = (last.0, e)
                } else {
                    out.append((s, e))
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for (s, e, isMatch) in parts {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = (last.0, e)
                } else {
                    out.append((s, e))
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (s, e, isMatch) in parts.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = (s, last.1)
                } else {
                    out.append((s, e))
                }
                previousMatch = isMatch
            }
            out.reverse()
        }
        return out.filter { $0.1 > $0.0 }
    }
}
