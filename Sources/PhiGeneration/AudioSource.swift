import Foundation
import PhiMedia

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
