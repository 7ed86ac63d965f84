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

    /// Phi-4-multimodal's vision and audio towers, set at load time; nil for text models.
    public let multimodal: Phi4MMModel?
    /// The media placeholder ids (`<|endoftext10|>`, `<|endoftext11|>`) of a multimodal model.
    public let mediaPlaceholders: MediaPlaceholders?
    /// `<|tool_call|>`, whose generation starts a tool call (Phi-4-mini); nil when the vocabulary lacks it.
    public let toolCallTokenID: Int?
    /// `<|/tool_call|>`, which ends one.
    public let toolCallEndTokenID: Int?

    /// A text model.
    public convenience init(directory: URL, model: LanguageModel, tokenizer: Tokenizer, eosTokenIDs: Set<Int>, chatFormat: any ChatFormat,
                addsBOSToken: Bool = false) {
        self.init(directory: directory, model: model, multimodal: nil, tokenizer: tokenizer, eosTokenIDs: eosTokenIDs,
                  chatFormat: chatFormat, addsBOSToken: addsBOSToken)
    }

    /// A Phi-4-multimodal model: the language model with its image and audio towers.
    public convenience init(directory: URL, multimodal: Phi4MMModel, tokenizer: Tokenizer, eosTokenIDs: Set<Int>,
                            chatFormat: any ChatFormat, addsBOSToken: Bool = false) {
        self.init(directory: directory, model: multimodal, multimodal: multimodal, tokenizer: tokenizer,
                  eosTokenIDs: eosTokenIDs, chatFormat: chatFormat, addsBOSToken: addsBOSToken)
    }

    private init(directory: URL, model: LanguageModel, multimodal: Phi4MMModel?, tokenizer: Tokenizer, eosTokenIDs: Set<Int>,
                 chatFormat: any ChatFormat, addsBOSToken: Bool) {
        self.directory = directory
        self.model = model
        self.multimodal = multimodal
        self.mediaPlaceholders = multimodal.map { mm in
            MediaPlaceholders(imageTokenID: tokenizer.specialTokenID("<|endoftext10|>") ?? mm.config.imageTokenID,
                              audioTokenID: tokenizer.specialTokenID("<|endoftext11|>") ?? mm.config.audioTokenID)
        }
        self.tokenizer = tokenizer
        self.eosTokenIDs = eosTokenIDs
        self.chatFormat = chatFormat
        self.addsBOSToken = addsBOSToken && tokenizer.bosTokenID != nil
        toolCallTokenID = tokenizer.specialTokenID("<|tool_call|>")
        toolCallEndTokenID = tokenizer.specialTokenID("<|/tool_call|>")
    }

    /// Repacks quantized weights in the background once the first token is computed (nil when there were none
    /// to repack). Generation works meanwhile, from the GGML rows, with the same outputs; only speed differs.
    public internal(set) var repacker: WeightRepacker?

    /// Blocks until every weight is in its fastest layout (for benchmarks; generation never needs it).
    public func waitForWeights() { repacker?.wait() }

    deinit { repacker?.cancel() }   // a model no longer wanted is not worth repacking

    public func makeGenerator() -> Generator { Generator(model: model, tokenizer: tokenizer, eosTokenIDs: eosTokenIDs) }

    /// The prompt builder for this model.
    public var promptBuilder: PromptBuilder { PromptBuilder(model: self) }
}
