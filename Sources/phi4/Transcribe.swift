import ArgumentParser
import Foundation
import PhiKit

struct Transcribe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcribe (or translate) speech with Phi-4-multimodal: WAV or FLAC at any sample rate.",
        discussion: """
        Long recordings are cut at pauses into pieces of at most --chunk-seconds, transcribed in order and \
        stitched with their times. Text streams to stdout as it is produced (--format text); the other formats \
        are written at the end. A progress line and the real-time factor go to stderr.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Output format: text, json, verbose_json, srt or vtt (OpenAI transcription shapes).")
    var format: String = "text"
    @Option(help: "Language of the speech (a hint; recorded in verbose_json).")
    var language: String?
    @Option(help: "Translate the speech into this language (e.g. French) instead of transcribing it.")
    var translateTo: String?
    @Option(help: "Longest piece of audio transcribed at once, in seconds.")
    var chunkSeconds: Double = 30
    @Option(help: "Most tokens generated per piece of audio.")
    var maxTokens: Int = 1024
    @Option(help: "Most seconds of audio accepted.")
    var maxAudioSeconds: Double = AudioLimits.default.maxSeconds
    @Argument(help: "The audio file.")
    var file: String

    func run() throws {
        try runCLI {
            guard let fmt = TranscriptFormat(rawValue: format) else {
                throw ValidationError("--format must be one of \(TranscriptFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            // inf or 1e300 gave an empty transcript and exit 0 (issue 10, finding 6)
            try OptionRange.check(chunkSeconds, "--chunk-seconds", 1...3600)
            try OptionRange.check(maxAudioSeconds, "--max-audio-seconds", 0.001...86_400)
            try OptionRange.check(maxTokens, "--max-tokens", 1...OptionRange.generatedTokens.upperBound)
            var limits = AudioLimits.default
            limits.maxSeconds = maxAudioSeconds
            let clip = try AudioDecoder.decode(contentsOf: URL(fileURLWithPath: (file as NSString).expandingTildeInPath), limits: limits)
            let loaded = try model.load()
            let transcriber = try Transcriber(model: loaded)
            var options = TranscriptionOptions(language: language, translateTo: translateTo)
            options.maxChunkSeconds = chunkSeconds
            options.minChunkSeconds = min(10, chunkSeconds / 2)
            options.maxTokensPerChunk = maxTokens
            let streaming = fmt == .text
            let t = try transcriber.transcribe(clip, options: options, onText: { if streaming { Console.write($0) } },
                                               onProgress: { done, total in
                if !streaming && total > 0 {
                    Console.error(String(format: "\rtranscribing: %.1f / %.1f s (%.0f%%)", done, total, 100 * done / total), newline: false)
                }
            })
            if streaming { Console.write("\n") } else { Console.error("") ; Console.write(try fmt.render(t)) }
            Console.error(String(format: "audio %.1f s transcribed in %.1f s: real-time factor %.3f", t.duration, t.seconds, t.realTimeFactor))
        }
    }
}
