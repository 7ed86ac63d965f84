import Foundation
import PhiKernels
import PhiModels
import PhiNN
import PhiTokenizer

/// A model ready to generate: weights (shared, immutable), tokenizer, stop ids and prompt format.
public final class LoadedModel: @unchecked Sendable {
    public let directory: URL
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let eosTokenIDs: Set<Int>
    public let chatFormat: any ChatFormat
    /// Whether the model's tokenizer puts BOS before raw text (GGUF `tokenizer.ggml.add_bos_token`, HF
    /// tokenizer_config `add_bos_token`); false for Phi-4. Chat prompts carry their own start tokens.
    public let addsBOSToken: Bool

    public init(directory: URL, model: LanguageModel, tokenizer: Tokenizer, eosTokenIDs: Set<Int>, chatFormat: any ChatFormat,
                addsBOSToken: Bool = false) {
        self.directory = directory
        self.model = model
        self.tokenizer = tokenizer
        self.eosTokenIDs = eosTokenIDs
        self.chatFormat = chatFormat
        self.addsBOSToken = addsBOSToken && tokenizer.bosTokenID != nil
    }

    /// Repacks quantized weights in the background once the first token is computed (nil when there were none
    /// to repack). Generation works meanwhile, from the GGML rows, with the same outputs; only speed differs.
    public internal(set) var repacker: WeightRepacker?

    /// Blocks until every weight is in its fastest layout (for benchmarks; generation never needs it).
    public func waitForWeights() { repacker?.wait() }

    deinit { repacker?.cancel() }   // a model no longer wanted is not worth repacking

    public func makeGenerator() -> Generator { Generator(model: model, tokenizer: tokenizer, eosTokenIDs: eosTokenIDs) }

    /// Token ids for a prompt: one user turn in the chat format, or the text as written with special-token
    /// text parsed (`raw`). `tools` (a JSON list of function definitions) goes in the system turn between
    /// `<|tool|>` and `<|/tool|>`, as Phi-4-mini's template does.
    public func promptTokens(_ prompt: String, raw: Bool, system: String? = nil, tools: String? = nil) -> [Int] {
        if raw { return tokenizer.encode(prompt, parseSpecial: true) }
        return chatFormat.encode(Self.turn(prompt, system: system, tools: tools), addGenerationPrompt: true)
    }

    /// One user turn, after a system turn when a system message or tools are given.
    static func turn(_ prompt: String, system: String?, tools: String?) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if system != nil || tools != nil {
            messages.append(ChatMessage(role: "system", content: system ?? "", tools: tools))
        }
        messages.append(ChatMessage(role: "user", content: prompt, tools: nil))
        return messages
    }
}
