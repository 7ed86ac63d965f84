import Foundation
import PhiWeights

/// One entry of the model registry: the names an architecture goes by in a Hugging Face config.json and in a
/// GGUF file, and how to build it from either. Each architecture defines its entry in its own folder
/// (`Phi3/Phi3Architecture.swift`, …) and is listed once in `ModelRegistry.architectures`.
public struct ModelArchitecture: Sendable {
    /// Short name for messages.
    public let name: String
    /// config.json `model_type` values.
    public let modelTypes: [String]
    /// config.json `architectures` class names, for configs without a `model_type`.
    public let classNames: [String]
    /// GGUF `general.architecture` values (none: the architecture has no GGUF form).
    public let ggufNames: [String]
    let loadFolder: @Sendable (URL, ModelLoadOptions) throws -> FolderModel
    let loadGGUF: (@Sendable (GGUFFile, ModelLoadOptions) throws -> LanguageModel)?

    public init(name: String, modelTypes: [String], classNames: [String], ggufNames: [String],
                folder: @escaping @Sendable (URL, ModelLoadOptions) throws -> FolderModel,
                gguf: (@Sendable (GGUFFile, ModelLoadOptions) throws -> LanguageModel)?) {
        self.name = name
        self.modelTypes = modelTypes
        self.classNames = classNames
        self.ggufNames = ggufNames
        self.loadFolder = folder
        self.loadGGUF = gguf
    }

    /// Builds the model of a Hugging Face folder (config.json, weights) of this architecture.
    public func load(folder: URL, options: ModelLoadOptions) throws -> FolderModel {
        try loadFolder(folder, options)
    }

    /// Builds the model of a llama.cpp GGUF file of this architecture.
    public func load(gguf file: GGUFFile, options: ModelLoadOptions) throws -> LanguageModel {
        guard let loadGGUF else { throw ModelError.unsupported("\(file.path): \(name) models are not read from GGUF files") }
        return try loadGGUF(file, options)
    }
}

/// A model built from a Hugging Face folder, with what its config says about generation.
public struct FolderModel: @unchecked Sendable {
    public let model: LanguageModel
    /// config.json's eos_token_id (generation_config.json, when present, takes precedence).
    public let eosTokenIDs: [Int]
    /// Special-token texts that also end a turn whatever the generation config says (Phi-4-multimodal's
    /// generation_config is assumed to match Phi-4-mini's, so `<|end|>` is added).
    public let turnEndTokens: [String]
    /// Phi-4-multimodal's vision and audio towers beside its language model (nil for text models), so prompt
    /// building reaches them without a downcast.
    public let multimodal: Phi4MMModel?

    public init(model: LanguageModel, eosTokenIDs: [Int], turnEndTokens: [String] = []) {
        self.model = model
        self.multimodal = nil
        self.eosTokenIDs = eosTokenIDs
        self.turnEndTokens = turnEndTokens
    }

    public init(multimodal: Phi4MMModel, eosTokenIDs: [Int], turnEndTokens: [String] = []) {
        self.model = multimodal
        self.multimodal = multimodal
        self.eosTokenIDs = eosTokenIDs
        self.turnEndTokens = turnEndTokens
    }
}
