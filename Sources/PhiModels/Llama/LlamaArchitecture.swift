import Foundation
import PhiWeights

extension ModelArchitecture {
    /// Llama family (`model_type` llama: SmolLM2, Llama 2, Llama 3 without rope scaling; llama.cpp's `llama`).
    public static let llama = ModelArchitecture(
        name: "llama", modelTypes: ["llama"], classNames: ["LlamaForCausalLM"], ggufNames: ["llama"],
        folder: { url, options in
            let config = try LlamaConfig.load(directory: url)
            let model = try LlamaModel(config: config, weights: try ModelFolder.weights(url), options: options)
            return FolderModel(model: model, eosTokenIDs: config.eosTokenIds)
        },
        gguf: { file, options in
            let config = try LlamaConfig(gguf: file, vocabSize: try file.embeddingRows())
            return try LlamaModel(config: config, weights: GGUFTensorSource(file: file), options: options)
        })
}
