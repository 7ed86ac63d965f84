import Foundation
import PhiWeights

/// A text model's config as the registry reads it: from a Hugging Face folder's config.json, or from a GGUF file's
/// metadata with the vocabulary size its embedding table implies.
protocol TextModelConfig: Sendable {
    static func load(directory: URL) throws -> Self
    init(gguf: GGUFFile, vocabSize: Int) throws
    var eosTokenIds: [Int] { get }
}

/// A text model built from its config and weights, whichever form they come in (Phi-3, Llama).
protocol TextModelFromConfig: LanguageModel {
    associatedtype Config: TextModelConfig
    init(config: Config, weights: TensorSource, options: ModelLoadOptions) throws
}

extension ModelArchitecture {
    /// The entry of a text-only architecture that loads alike from a folder (config.json, weights or their
    /// quantized copy) and from a llama.cpp GGUF file.
    static func textModel<Model: TextModelFromConfig>(_ model: Model.Type, name: String, modelTypes: [String],
                                                      classNames: [String], ggufNames: [String]) -> ModelArchitecture {
        ModelArchitecture(
            name: name, modelTypes: modelTypes, classNames: classNames, ggufNames: ggufNames,
            folder: { url, options in
                let config = try Model.Config.load(directory: url)
                let model = try Model(config: config, weights: try ModelFolder.weights(url), options: options)
                return FolderModel(model: model, eosTokenIDs: config.eosTokenIds)
            },
            gguf: { file, options in
                let config = try Model.Config(gguf: file, vocabSize: try file.embeddingRows())
                return try Model(config: config, weights: GGUFTensorSource(file: file), options: options)
            })
    }
}
