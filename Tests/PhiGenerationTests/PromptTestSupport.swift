import PhiKit

extension LoadedModel {
    /// A prompt as the CLI builds it: one user turn (or raw text) whose `<|image_N|>` / `<|audio_N|>` take the media.
    func prompt(_ text: String, raw: Bool = false, images: [ImageSource] = [], audios: [AudioSource] = [],
                limits: MediaLimits = MediaLimits()) throws -> PreparedPrompt {
        try promptBuilder.build([.user(text, images: images, audios: audios)],
                                options: PromptOptions(mode: raw ? .raw(parseSpecialTokens: true) : .chat,
                                                       textPlaceholders: true, limits: limits))
    }
}
