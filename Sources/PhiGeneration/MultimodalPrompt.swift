import Foundation
import PhiMedia
import PhiModels
import PhiNN
import PhiTokenizer

/// An image given with a prompt: a file, encoded bytes (JPEG/PNG), or decoded RGB pixels.
public enum ImageSource: Sendable {
    case file(URL)
    case data(Data)
    case pixels(RGBImage)

    func decode(limits: ImageLimits) throws -> RGBImage {
        switch self {
        case .file(let url): return try ImageDecoder.decode(contentsOf: url, limits: limits)
        case .data(let d): return try ImageDecoder.decode(d, limits: limits)
        case .pixels(let p):
            guard p.width * p.height <= limits.maxPixels else {
                throw MultimodalError.invalid("the image has \(p.width)×\(p.height) pixels, over the limit of \(limits.maxPixels)")
            }
            return p
        }
    }
}

/// Audio given with a prompt: a file (WAV, FLAC), encoded bytes, or decoded samples at any rate.
public enum AudioSource: Sendable {
    case file(URL)
    case data(Data)
    case samples(AudioClip)

    func decode(limits: AudioLimits) throws -> AudioClip {
        switch self {
        case .file(let url): return try AudioDecoder.decode(contentsOf: url, limits: limits)
        case .data(let d): return try AudioDecoder.decode(d, limits: limits)
        case .samples(let c):
            guard c.duration <= limits.maxSeconds else {
                throw MultimodalError.invalid(String(format: "the audio lasts %.1f s, over the limit of %.0f s", c.duration, limits.maxSeconds))
            }
            return c
        }
    }
}

/// Media that goes with one prompt.
public struct PromptMedia: Sendable {
    public var images: [ImageSource]
    public var audios: [AudioSource]
    public var imageLimits: ImageLimits
    public var audioLimits: AudioLimits
    /// Phi-4-multimodal's dynamic_hd: the most 448-pixel crops per image.
    public var maxCrops: Int
    /// Most audio clips per prompt.
    public var maxAudios: Int

    public init(images: [ImageSource] = [], audios: [AudioSource] = [], imageLimits: ImageLimits = .default,
                audioLimits: AudioLimits = .default, maxCrops: Int = 36, maxAudios: Int = 16) {
        self.images = images
        self.audios = audios
        self.imageLimits = imageLimits
        self.audioLimits = audioLimits
        self.maxCrops = maxCrops
        self.maxAudios = maxAudios
    }

    public var isEmpty: Bool { images.isEmpty && audios.isEmpty }
}

/// Token ids ready for generation, with the conditioning (spliced features + LoRA) a multimodal prompt needs.
public struct PreparedPrompt: @unchecked Sendable {
    public let tokens: [Int]
    public let conditioning: Conditioning?
    /// Tokens each image expanded to, in order.
    public let imageTokenCounts: [Int]
    /// Tokens each audio clip expanded to, in order.
    public var audioTokenCounts: [Int] = []
    /// Seconds of audio in the prompt.
    public var audioSeconds: Double = 0

    public init(tokens: [Int], conditioning: Conditioning?, imageTokenCounts: [Int]) {
        self.tokens = tokens
        self.conditioning = conditioning
        self.imageTokenCounts = imageTokenCounts
    }
}

public enum MultimodalError: Error, CustomStringConvertible {
    case notMultimodal(String)
    case placeholderMismatch(kind: String, placeholders: Int, given: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .notMultimodal(let what):
            return "this model does not take \(what); use a Phi-4-multimodal model (microsoft/Phi-4-multimodal-instruct)"
        case .placeholderMismatch(let k, let p, let g):
            return "the prompt has \(p) \(k) placeholder(s) (<|\(k)_N|>) but \(g) \(k)(s) were given"
        case .invalid(let m): return m
        }
    }
}

extension LoadedModel {
    /// The multimodal model, when this is Phi-4-multimodal.
    public var multimodal: Phi4MMModel? { model as? Phi4MMModel }

    /// Placeholder ids of a multimodal model (`<|endoftext10|>`, `<|endoftext11|>`).
    public var mediaPlaceholders: MediaPlaceholders? {
        guard let mm = multimodal else { return nil }
        return MediaPlaceholders(imageTokenID: tokenizer.specialTokenID("<|endoftext10|>") ?? mm.config.imageTokenID,
                                 audioTokenID: tokenizer.specialTokenID("<|endoftext11|>") ?? mm.config.audioTokenID)
    }

    /// Builds a prompt with its media. The k-th `<|image_N|>` in text order takes the k-th image (N is
    /// ignored, as in the original processor); a chat prompt without placeholders gets them put first; a
    /// mismatch between placeholders and images is an error. Each placeholder expands to the image's token
    /// count, and the projected image features replace those positions. `progress` reports long work.
    public func prepare(_ prompt: String, raw: Bool, system: String? = nil, tools: String? = nil,
                        media: PromptMedia = PromptMedia(), progress: ((String) -> Void)? = nil) throws -> PreparedPrompt {
        guard let mm = multimodal, let placeholders = mediaPlaceholders else {
            guard media.isEmpty else { throw MultimodalError.notMultimodal(media.images.isEmpty ? "audio" : "images") }
            return PreparedPrompt(tokens: promptTokens(prompt, raw: raw, system: system, tools: tools), conditioning: nil,
                                  imageTokenCounts: [])
        }
        try media.imageLimits.checkImageCount(media.images.count)
        guard media.audios.count <= media.maxAudios else {
            throw MultimodalError.invalid("\(media.audios.count) audio clips were given; the limit is \(media.maxAudios) per prompt")
        }
        let vocab = model.vocabularySize
        for id in [placeholders.imageTokenID, placeholders.audioTokenID] where id < 0 || id >= vocab {
            throw MultimodalError.invalid("the placeholder id \(id) is outside the vocabulary (\(vocab))")
        }
        var text = prompt
        let present = MediaPlaceholders.count(in: prompt)
        if !raw, present.images == 0, present.audios == 0, !media.isEmpty {
            // No placeholders: images first, then audio, before the text.
            text = (0..<media.images.count).map { "<|image_\($0 + 1)|>" }.joined()
                + (0..<media.audios.count).map { "<|audio_\($0 + 1)|>" }.joined() + prompt
        }
        var ids: [Int]
        if raw {
            ids = []
            for part in MediaPlaceholders.split(text) {
                switch part {
                case .text(let t): ids += tokenizer.encode(t, parseSpecial: true)
                case .placeholder(let k): ids.append(k == .image ? placeholders.imageTokenID : placeholders.audioTokenID)
                }
            }
        } else {
            ids = chatFormat.encode(Self.turn(text, system: system, tools: tools), addGenerationPrompt: true, media: placeholders)
        }
        let imageSlots = ids.filter { $0 == placeholders.imageTokenID }.count
        let audioSlots = ids.filter { $0 == placeholders.audioTokenID }.count
        guard imageSlots == media.images.count else {
            throw MultimodalError.placeholderMismatch(kind: "image", placeholders: imageSlots, given: media.images.count)
        }
        guard audioSlots == media.audios.count else {
            throw MultimodalError.placeholderMismatch(kind: "audio", placeholders: audioSlots, given: media.audios.count)
        }
        if media.isEmpty { return PreparedPrompt(tokens: ids, conditioning: nil, imageTokenCounts: []) }

        // Input mode (reference §2): images → vision LoRA; audio only → speech LoRA and projector;
        // images + audio → vision LoRA and the vision audio projector.
        let mode: Phi4MMModel.InputMode = media.audios.isEmpty ? .vision : media.images.isEmpty ? .speech : .visionSpeech
        var imageFeatures: [[Float]] = [], imageCounts: [Int] = []
        let processor = Phi4MMImageProcessor(dynamicHD: media.maxCrops)
        for (k, source) in media.images.enumerated() {
            let image = try source.decode(limits: media.imageLimits)
            let input = try processor.process(image)
            let crops = ImageCrops(columns: input.columns, rows: input.rows, pixels: input.pixelValues, masks: input.patchMask,
                                   validRows: input.validRows, validColumns: input.validColumns)
            guard crops.tokenCount() == input.tokenCount else {
                throw MultimodalError.invalid("image \(k + 1): inconsistent token count \(input.tokenCount) vs \(crops.tokenCount())")
            }
            imageFeatures.append(try mm.vision.embed(crops) { done, total in
                progress?("encoding image \(k + 1)/\(media.images.count): crop \(done)/\(total)")
            })
            imageCounts.append(input.tokenCount)
        }
        var audioFeatures: [[Float]] = [], audioCounts: [Int] = []
        var seconds = 0.0
        for (k, source) in media.audios.enumerated() {
            let clip = try source.decode(limits: media.audioLimits)
            seconds += clip.duration
            progress?(String(format: "encoding audio %d/%d (%.1f s)", k + 1, media.audios.count, clip.duration))
            let (features, frames) = try Phi4MMAudioFeatures.extract(clip: clip)
            let count = Phi4MMAudioFeatures.tokenCount(frames: frames)
            guard count == mm.audio.encoder.outputFrames(frames) else {
                throw MultimodalError.invalid("audio \(k + 1): \(count) tokens but the encoder gives \(mm.audio.encoder.outputFrames(frames)) frames")
            }
            audioFeatures.append(try mm.audio.embed(features: features, frames: frames, mode: mode == .speech ? .speech : .visionSpeech))
            audioCounts.append(count)
        }
        var expanded: [Int] = []
        var positions: [Int] = []
        var rows: [Float] = []
        var nextImage = 0, nextAudio = 0
        for id in ids {
            let features: [Float], count: Int
            if id == placeholders.imageTokenID {
                (features, count) = (imageFeatures[nextImage], imageCounts[nextImage])
                nextImage += 1
            } else if id == placeholders.audioTokenID {
                (features, count) = (audioFeatures[nextAudio], audioCounts[nextAudio])
                nextAudio += 1
            } else {
                expanded.append(id)
                continue
            }
            positions += expanded.count..<(expanded.count + count)
            expanded += repeatElement(id, count: count)
            rows += features
        }
        let conditioning = try Conditioning(adapter: try mm.adapter(for: mode), positions: positions, rows: rows, width: mm.hiddenSize)
        var prepared = PreparedPrompt(tokens: expanded, conditioning: conditioning, imageTokenCounts: imageCounts)
        prepared.audioTokenCounts = audioCounts
        prepared.audioSeconds = seconds
        return prepared
    }
}
