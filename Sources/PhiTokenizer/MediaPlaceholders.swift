/// The placeholder tokens of a multimodal model. In prompt text, `<|image_N|>` and `<|audio_N|>` each
/// become one placeholder id, as the original Phi-4-multimodal processor does (N is ignored: the k-th image
/// placeholder in text order takes the k-th image). Later stages expand each placeholder to the media's
/// token count.
public struct MediaPlaceholders: Sendable, Equatable {
    public var imageTokenID: Int
    public var audioTokenID: Int

    public init(imageTokenID: Int, audioTokenID: Int) {
        self.imageTokenID = imageTokenID
        self.audioTokenID = audioTokenID
    }

    public enum Kind: Sendable, Equatable { case image, audio }

    public enum Segment: Sendable, Equatable {
        case text(String)
        case placeholder(Kind)
    }

    /// Splits text at `<|image_N|>` / `<|audio_N|>` (N: one or more ASCII digits).
    public static func split(_ text: String) -> [Segment] {
        var out: [Segment] = []
        var pending = Substring()
        var rest = text[...]
        while let open = rest.range(of: "<|") {
            let after = rest[open.upperBound...]
            var kind: Kind?
            var body = after
            if after.hasPrefix("image_") { kind = .image; body = after.dropFirst(6) }
            else if after.hasPrefix("audio_") { kind = .audio; body = after.dropFirst(6) }
            let digits = body.prefix { $0.isASCII && $0.isNumber }
            if let kind, !digits.isEmpty, body.dropFirst(digits.count).hasPrefix("|>") {
                pending += rest[..<open.lowerBound]
                if !pending.isEmpty { out.append(.text(String(pending))) }
                pending = ""
                out.append(.placeholder(kind))
                rest = body.dropFirst(digits.count + 2)
            } else {
                pending += rest[..<open.upperBound]
                rest = after
            }
        }
        pending += rest
        if !pending.isEmpty { out.append(.text(String(pending))) }
        return out
    }

    /// Counts of image and audio placeholders in `text`.
    public static func count(in text: String) -> (images: Int, audios: Int) {
        var i = 0, a = 0
        for case .placeholder(let k) in split(text) { if k == .image { i += 1 } else { a += 1 } }
        return (i, a)
    }
}
