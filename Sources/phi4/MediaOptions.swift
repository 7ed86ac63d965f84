import ArgumentParser
import Foundation
import PhiKit

/// Images and audio given with a prompt, for Phi-4-multimodal models.
struct MediaOptions: ParsableArguments {
    @Option(name: .customLong("image"), help: "An image file (JPEG or PNG) for the prompt (repeatable). The k-th <|image_N|> in the prompt takes the k-th image; without placeholders the images go first.")
    var images: [String] = []
    @Option(name: .customLong("audio"), help: "An audio file (WAV or FLAC, any sample rate) for the prompt (repeatable). The k-th <|audio_N|> takes the k-th clip; without placeholders the clips go first, after any images.")
    var audios: [String] = []
    @Option(help: "Most seconds of audio per clip.")
    var maxAudioSeconds: Double = AudioLimits.default.maxSeconds
    @Option(help: "Most 448-pixel crops per image (Phi-4-multimodal's dynamic_hd).")
    var maxCrops: Int = 36
    @Option(help: "Most decoded pixels per image.")
    var maxImagePixels: Int = ImageLimits.default.maxPixels
    @Option(help: "Most images per prompt.")
    var maxImages: Int = ImageLimits.default.maxImagesPerPrompt

    /// Checked when the command line is parsed, before a model is loaded.
    func validate() throws { _ = try limits() }

    func limits() throws -> MediaLimits {
        // 512 crops of 256 tokens each already exceed a 128k context
        try OptionRange.check(maxCrops, "--max-crops", 1...512)
        try OptionRange.check(maxImagePixels, "--max-image-pixels", 1...(1 << 31))
        try OptionRange.check(maxImages, "--max-images", 0...1024)
        var limits = ImageLimits.default
        limits.maxPixels = maxImagePixels
        limits.maxImagesPerPrompt = maxImages
        try OptionRange.check(maxAudioSeconds, "--max-audio-seconds", 0.001...86_400)
        var audioLimits = AudioLimits.default
        audioLimits.maxSeconds = maxAudioSeconds
        return MediaLimits(image: limits, audio: audioLimits, maxCrops: maxCrops)
    }

    /// The prompt as one user message with its media; `<|image_N|>` / `<|audio_N|>` in the text are slots.
    func message(_ prompt: String) -> PromptMessage {
        func url(_ p: String) -> URL { URL(fileURLWithPath: (p as NSString).expandingTildeInPath) }
        return .user(prompt, images: images.map { .file(url($0)) }, audios: audios.map { .file(url($0)) })
    }

    /// Builds the prompt (a system turn when `system` or tools are given, then the user turn; raw: the text as
    /// written), with a progress line on stderr while media are encoded.
    func prepare(_ loaded: LoadedModel, prompt: String, raw: Bool, system: String? = nil, tools: ToolList? = nil) throws -> PreparedPrompt {
        let options = PromptOptions(mode: raw ? .raw(parseSpecialTokens: true) : .chat, textPlaceholders: true, limits: try limits())
        let messages = (raw ? [] : system.map { [PromptMessage.system($0)] } ?? []) + [message(prompt)]
        let prepared = try loaded.promptBuilder.build(messages, tools: raw ? nil : tools, options: options) { line in
            Console.error("\r\(line)", newline: false)
        }
        if !images.isEmpty || !audios.isEmpty { Console.error("\r\(String(repeating: " ", count: 60))\r", newline: false) }
        return prepared
    }
}
