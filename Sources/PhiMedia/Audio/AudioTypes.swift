import Foundation

/// Limits enforced while decoding audio, checked against header values before any sample buffer is allocated.
///
/// `maxSeconds` bounds the decoded duration (2 hours by default: 90,000 audio tokens at 12.5 tokens per second,
/// which leaves room for text in the 128k context). `maxBytes` bounds the encoded input size (2 GiB by default;
/// a 2-hour 48 kHz stereo 16-bit WAV is 1.4 GB). `maxSamples` bounds the decoded sample frames whatever the
/// rate: seconds × a declared rate does not bound memory (2 hours at 768 kHz is 5.5 G samples, 22 GB), and FLAC
/// breaks "the input size bounds the output" (a 13-byte frame can hold 65,535 samples).
public struct AudioLimits: Sendable, Equatable {
    /// Longest accepted clip in seconds (frames / sample rate).
    public var maxSeconds: Double
    /// Largest accepted encoded input in bytes.
    public var maxBytes: Int
    /// Most decoded sample frames (one mono Float each after the channels are mixed).
    public var maxSamples: Int

    public init(maxSeconds: Double, maxBytes: Int, maxSamples: Int = AudioLimits.absoluteMaxSamples) {
        self.maxSeconds = maxSeconds
        self.maxBytes = maxBytes
        self.maxSamples = maxSamples
    }

    /// 2 hours at 48 kHz (1.4 GB of decoded samples): the default `maxSamples`.
    public static let absoluteMaxSamples = 7200 * 48_000

    /// 2 hours, 2 GiB, 2 hours at 48 kHz.
    public static let `default` = AudioLimits(maxSeconds: 7200, maxBytes: 2 << 30)

    /// The most frames a clip at `rate` Hz may decode to: both `maxSamples` and `maxSeconds` × rate.
    func frameBudget(rate: Int) -> Int {
        let bySeconds = maxSeconds.isNaN ? 0 : max(0, maxSeconds) * Double(max(rate, 0))
        let capped = bySeconds >= Double(Int.max / 2) ? Int.max / 2 : Int(bySeconds)
        return max(0, min(maxSamples, capped))
    }

    /// Throws `tooLong` or `tooManySamples` when `frames` at `rate` exceed the limits; call before allocating.
    func check(frames: Int, rate: Int) throws {
        let seconds = Double(frames) / Double(max(rate, 1))
        if seconds > maxSeconds || maxSeconds.isNaN { throw AudioError.tooLong(seconds: seconds, limit: maxSeconds) }
        if frames > maxSamples { throw AudioError.tooManySamples(samples: frames, limit: maxSamples) }
    }
}

/// A decoded mono clip: samples in the source sample rate, scaled like `soundfile.read` (int16 → x/32768,
/// int24 → x/2^23, int32 → x/2^31, uint8 → (x−128)/128, float as stored), channels averaged.
public struct AudioClip: Sendable, Equatable {
    /// Samples per second.
    public let sampleRate: Int
    /// Mono samples (the mean over the source channels).
    public let samples: [Float]

    public init(sampleRate: Int, samples: [Float]) {
        self.sampleRate = sampleRate
        self.samples = samples
    }

    /// Length in seconds.
    public var duration: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }
}

/// Errors from audio decoding, resampling and feature extraction. Every case has a message fit for an end user.
public enum AudioError: Error, CustomStringConvertible, Equatable {
    /// The data has no samples (empty input, or a valid container with zero frames).
    case empty(String)
    /// The data ends before a structure it declares.
    case truncated(String)
    /// A structure is invalid (bad chunk, bad header field, inconsistent sizes, out-of-range sample).
    case corrupt(String)
    /// A FLAC CRC-8 (frame header) or CRC-16 (frame) check failed.
    case checksumMismatch(String)
    /// A recognised container or codec PhiKit does not decode (MP3, Ogg, M4A, …), with a conversion hint.
    case unsupportedFormat(String)
    /// A WAV/FLAC variant PhiKit does not decode (A-law, µ-law, ADPCM, odd bit depths).
    case unsupportedEncoding(String)
    /// The input is larger than `AudioLimits.maxBytes`.
    case tooLarge(bytes: Int, limit: Int)
    /// The clip is longer than `AudioLimits.maxSeconds`.
    case tooLong(seconds: Double, limit: Double)
    /// The clip decodes to more sample frames than `AudioLimits.maxSamples`.
    case tooManySamples(samples: Int, limit: Int)
    /// Fewer samples than one analysis window.
    case tooShort(samples: Int, minimum: Int)
    /// A sample rate outside the supported range.
    case invalidSampleRate(Int)
    /// Samples that are NaN or infinite.
    case nonFiniteSamples
    /// The file could not be read.
    case io(String)

    static let conversionHint = "convert it to PCM WAV or FLAC first, e.g. `ffmpeg -i input -ar 16000 -ac 1 output.wav`"

    public var description: String {
        switch self {
        case .empty(let s): return "audio has no samples: \(s)"
        case .truncated(let s): return "audio data is truncated: \(s)"
        case .corrupt(let s): return "audio data is corrupt: \(s)"
        case .checksumMismatch(let s): return "audio data is corrupt (checksum mismatch): \(s)"
        case .unsupportedFormat(let s): return "unsupported audio format: \(s); only WAV and FLAC are decoded, \(AudioError.conversionHint)"
        case .unsupportedEncoding(let s): return "unsupported audio encoding: \(s); \(AudioError.conversionHint)"
        case .tooLarge(let b, let l): return "audio input is \(b) bytes, above the limit of \(l) bytes"
        case .tooLong(let s, let l):
            return "audio is \(String(format: "%.1f", s)) s long, above the limit of \(String(format: "%.1f", l)) s"
        case .tooManySamples(let n, let l):
            return "audio decodes to \(n) samples or more, above the limit of \(l) samples"
        case .tooShort(let n, let m): return "audio is too short: \(n) samples at 16 kHz, at least \(m) (25 ms) are needed"
        case .invalidSampleRate(let r): return "unsupported sample rate \(r) Hz (supported: \(AudioResampler.supportedRates.lowerBound)–\(AudioResampler.supportedRates.upperBound) Hz)"
        case .nonFiniteSamples: return "audio contains NaN or infinite samples"
        case .io(let s): return "cannot read audio file: \(s)"
        }
    }
}

/// Overflow-checked arithmetic helpers: any overflow is reported as corrupt input.
@inline(__always) func checkedMul(_ a: Int, _ b: Int, _ what: String) throws -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw AudioError.corrupt("\(what) overflows") }
    return r
}

@inline(__always) func checkedAdd(_ a: Int, _ b: Int, _ what: String) throws -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw AudioError.corrupt("\(what) overflows") }
    return r
}
