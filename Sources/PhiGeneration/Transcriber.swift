import Foundation
import PhiMedia
import PhiModels

/// Splits long recordings at pauses so each piece fits the model's comfortable window. Cuts fall at the
/// quietest 100 ms stretch between `minSeconds` and `maxSeconds` into the remaining audio, so a word is not
/// cut in two and nothing is transcribed twice (pieces do not overlap).
public enum SilenceSplitter {
    public static func chunks(samples: [Float], sampleRate: Int, maxSeconds: Double = 30, minSeconds: Double = 10) -> [Range<Int>] {
        let n = samples.count
        let maxLen = max(1, Int(maxSeconds * Double(sampleRate)))
        guard n > maxLen else { return n > 0 ? [0..<n] : [] }
        let hop = max(1, sampleRate / 100)                 // 10 ms energy frames
        let win = 10                                        // 100 ms smoothing (in frames)
        let frames = n / hop
        var energy = [Double](repeating: 0, count: frames)
        for f in 0..<frames {
            var s = 0.0
            for i in (f * hop)..<min(n, (f + 1) * hop) { s += Double(samples[i]) * Double(samples[i]) }
            energy[f] = s
        }
        var prefix = [Double](repeating: 0, count: frames + 1)
        for f in 0..<frames { prefix[f + 1] = prefix[f] + energy[f] }
        var out: [Range<Int>] = []
        var start = 0
        let minLen = min(maxLen, max(hop * win, Int(minSeconds * Double(sampleRate))))
        while n - start > maxLen {
            let lo = (start + minLen) / hop, hi = min(frames - win, (start + maxLen) / hop - win)
            var best = hi, bestE = Double.infinity
            if lo <= hi {
                for f in lo...hi {
                    let e = prefix[f + win] - prefix[f]
                    if e < bestE { bestE = e; best = f }     // first quietest stretch
                }
            }
            let cut = min(n, max(start + 1, (best + win / 2) * hop))
            out.append(start..<cut)
            start = cut
        }
        out.append(start..<n)
        return out
    }
}

/// One timed piece of a transcript.
public struct TranscriptSegment: Sendable, Codable, Equatable {
    public var id: Int
    public var start: Double
    public var end: Double
    public var text: String
    public var tokens: [Int]

    public init(id: Int, start: Double, end: Double, text: String, tokens: [Int]) {
        self.id = id
        self.start = start
        self.end = end
        self.text = text
        self.tokens = tokens
    }
}

public struct Transcript: Sendable {
    public var text: String
    public var segments: [TranscriptSegment]
    public var duration: Double
    public var language: String?
    public var task: String
    /// Wall-clock seconds spent, and seconds per second of audio.
    public var seconds: Double
    public var realTimeFactor: Double { duration > 0 ? seconds / duration : 0 }

    public init(text: String, segments: [TranscriptSegment], duration: Double, language: String?, task: String, seconds: Double) {
        self.text = text
        self.segments = segments
        self.duration = duration
        self.language = language
        self.task = task
        self.seconds = seconds
    }
}

public struct TranscriptionOptions: Sendable {
    /// Language of the speech (a hint for the prompt and the output metadata).
    public var language: String?
    /// Translate the speech into this language instead of transcribing it.
    public var translateTo: String?
    public var maxChunkSeconds: Double = 30
    public var minChunkSeconds: Double = 10
    public var maxTokensPerChunk: Int = 1024

    public init(language: String? = nil, translateTo: String? = nil) {
        self.language = language
        self.translateTo = translateTo
    }

    /// OpenAI's `task` of the result.
    public var task: String { translateTo == nil ? "transcribe" : "translate" }

    /// The instruction in the user turn (model-card wording for ASR and speech translation).
    public var instruction: String {
        if let to = translateTo { return "Translate the audio to \(to)." }
        if let language { return "Transcribe the audio to text. The audio is in \(language)." }
        return "Transcribe the audio to text."
    }
}

/// Speech to text with Phi-4-multimodal: the audio is cut at pauses into pieces of at most
/// `maxChunkSeconds`, each transcribed in order with the model's ASR prompt (speech LoRA), and the texts
/// stitched with their times.
public final class Transcriber: @unchecked Sendable {
    public let model: LoadedModel

    public init(model: LoadedModel) throws {
        guard model.multimodal != nil else { throw MultimodalError.notMultimodal("audio") }
        self.model = model
    }

    /// `onText` gets text as it is produced; `onProgress` gets (seconds done, total seconds).
    public func transcribe(_ clip: AudioClip, options: TranscriptionOptions = TranscriptionOptions(),
                           onText: (String) -> Void = { _ in }, onProgress: (Double, Double) -> Void = { _, _ in }) throws -> Transcript {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let recording = try Self.split(clip, options: options)
        let generator = model.makeGenerator()
        var stitcher = TranscriptStitcher(sampleRate: recording.sampleRate)
        onProgress(0, recording.duration)
        for r in recording.pieces {
            let prepared = try Self.prompt(recording.clip(r), options: options, model: model)
            let result = try generator.generate(prompt: prepared.tokens, options: GenerationOptions(maxTokens: options.maxTokensPerChunk),
                                                conditioning: prepared.conditioning) { tok in
                let shown = stitcher.add(tok.text)
                if !shown.isEmpty { onText(shown) }
                return true
            }
            stitcher.endPiece(samples: r, tokens: result.generatedTokens)
            onProgress(Double(r.upperBound) / Double(recording.sampleRate), recording.duration)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        return Transcript(text: stitcher.text, segments: stitcher.segments, duration: recording.duration, language: options.language,
                          task: options.task, seconds: seconds)
    }

    /// A recording at the model's sample rate and the pieces it is transcribed in.
    public struct SplitRecording: Sendable {
        public let samples: [Float]
        public let sampleRate: Int
        /// Cut at pauses, in order; pieces too short to give one feature frame (< 25 ms, no speech) left out.
        public let pieces: [Range<Int>]
        public var duration: Double { Double(samples.count) / Double(sampleRate) }

        public func clip(_ piece: Range<Int>) -> AudioClip { AudioClip(sampleRate: sampleRate, samples: Array(samples[piece])) }
    }

    /// Resamples `clip` to the model's rate and cuts it at pauses (`SilenceSplitter`). Throws `AudioError.empty` when
    /// nothing long enough to transcribe is left.
    public static func split(_ clip: AudioClip, options: TranscriptionOptions) throws -> SplitRecording {
        let rate = Phi4MMAudioFeatures.sampleRate
        let samples = clip.sampleRate == rate ? clip.samples : try AudioResampler.resample(clip.samples, from: clip.sampleRate, to: rate)
        let pieces = SilenceSplitter.chunks(samples: samples, sampleRate: rate, maxSeconds: options.maxChunkSeconds,
                                            minSeconds: options.minChunkSeconds).filter { $0.count >= Phi4MMAudioFeatures.windowLength }
        guard !pieces.isEmpty else { throw AudioError.empty("the audio has no stretch long enough to transcribe (25 ms at least)") }
        return SplitRecording(samples: samples, sampleRate: rate, pieces: pieces)
    }

    /// The prompt for one piece: the audio and the model card's ASR / translation instruction (speech LoRA).
    public static func prompt(_ piece: AudioClip, options: TranscriptionOptions, model: LoadedModel) throws -> PreparedPrompt {
        try model.promptBuilder.build([.user([.audio(.samples(piece)), .text(options.instruction)])])
    }
}

/// OpenAI transcription output shapes.
public enum TranscriptFormat: String, CaseIterable, Sendable {
    case text, json, verbose_json, srt, vtt

    public func render(_ t: Transcript) throws -> String {
        switch self {
        case .text: return t.text + "\n"
        case .json: return try Self.json(["text": t.text])
        case .verbose_json:
            var obj: [String: Any] = ["task": t.task, "duration": t.duration, "text": t.text,
                                      "segments": t.segments.map { s -> [String: Any] in
                                          ["id": s.id, "seek": 0, "start": s.start, "end": s.end, "text": s.text, "tokens": s.tokens]
                                      }]
            obj["language"] = t.language ?? NSNull()
            return try Self.json(obj)
        case .srt:
            return t.segments.filter { !$0.text.isEmpty }.enumerated().map { i, s in
                "\(i + 1)\n\(Self.stamp(s.start, ",")) --> \(Self.stamp(s.end, ","))\n\(s.text)\n"
            }.joined(separator: "\n")
        case .vtt:
            return "WEBVTT\n\n" + t.segments.filter { !$0.text.isEmpty }.map { s in
                "\(Self.stamp(s.start, ".")) --> \(Self.stamp(s.end, "."))\n\(s.text)\n"
            }.joined(separator: "\n")
        }
    }

    static func json(_ obj: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (WebVTT).
    static func stamp(_ seconds: Double, _ sep: String) -> String {
        let ms = max(0, Int((seconds * 1000).rounded()))
        return String(format: "%02d:%02d:%02d%@%03d", ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60, sep, ms % 1000)
    }
}
