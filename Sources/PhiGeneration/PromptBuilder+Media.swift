import Foundation
import PhiMedia
import PhiModels
import PhiNN

extension PromptBuilder {
    /// Features of one image or clip: [count, hidden].
    struct EncodedMedia {
        let features: [Float]
        let count: Int
        var seconds: Double = 0
    }

    /// Decodes, preprocesses and encodes each image (vision tower + projector).
    func encodeImages(_ sources: [ImageSource], model mm: Phi4MMModel, limits: MediaLimits,
                      progress: ((String) -> Void)?) throws -> [EncodedMedia] {
        let processor = Phi4MMImageProcessor(dynamicHD: limits.maxCrops)
        return try sources.enumerated().map { k, source in
            let input = try processor.process(try source.decode(limits: limits.image))
            let features = try mm.vision.embed(input) { done, total in
                progress?("encoding image \(k + 1)/\(sources.count): crop \(done)/\(total)")
            }
            return EncodedMedia(features: features, count: input.tokenCount)
        }
    }

    /// Decodes each clip, extracts log-mel features and encodes them (conformer + the mode's projector).
    func encodeAudios(_ sources: [AudioSource], model mm: Phi4MMModel, mode: Phi4MMModel.InputMode, limits: MediaLimits,
                      progress: ((String) -> Void)?) throws -> [EncodedMedia] {
        try sources.enumerated().map { k, source in
            let clip = try source.decode(limits: limits.audio)
            progress?(String(format: "encoding audio %d/%d (%.1f s)", k + 1, sources.count, clip.duration))
            let (features, frames) = try Phi4MMAudioFeatures.extract(clip: clip)
            let count = Phi4MMAudioFeatures.tokenCount(frames: frames)
            guard count == mm.audio.encoder.outputFrames(frames) else {
                throw MultimodalError.invalid("audio \(k + 1): \(count) tokens but the encoder gives \(mm.audio.encoder.outputFrames(frames)) frames")
            }
            let embedded = try mm.audio.embed(features: features, frames: frames, mode: mode == .speech ? .speech : .visionSpeech)
            return EncodedMedia(features: embedded, count: count, seconds: clip.duration)
        }
    }

    /// Expands each placeholder id to its medium's token count and puts the features at those positions.
    func splice(_ ids: [Int], images: [EncodedMedia], audios: [EncodedMedia], model mm: Phi4MMModel,
                mode: Phi4MMModel.InputMode) throws -> PreparedPrompt {
        guard let placeholders = model.mediaPlaceholders else { return PreparedPrompt(tokens: ids) }
        var expanded: [Int] = [], positions: [Int] = [], rows: [Float] = []
        var nextImage = images.makeIterator(), nextAudio = audios.makeIterator()
        for id in ids {
            let medium: EncodedMedia?
            switch id {
            case placeholders.imageTokenID: medium = nextImage.next()
            case placeholders.audioTokenID: medium = nextAudio.next()
            default:
                expanded.append(id)
                continue
            }
            guard let medium else { throw MultimodalError.invalid("more placeholders than media") }
            positions += expanded.count..<(expanded.count + medium.count)
            expanded += repeatElement(id, count: medium.count)
            rows += medium.features
        }
        let conditioning = try Conditioning(adapter: try mm.adapter(for: mode), positions: positions, rows: rows, width: mm.hiddenSize)
        return PreparedPrompt(tokens: expanded, conditioning: conditioning, imageTokenCounts: images.map(\.count),
                              audioTokenCounts: audios.map(\.count), audioSeconds: audios.reduce(0) { $0 + $1.seconds })
    }
}
