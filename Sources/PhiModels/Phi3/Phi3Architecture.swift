import Foundation
import PhiWeights

extension ModelArchitecture {
    /// Phi-3, Phi-3.5-mini, Phi-4-mini (`model_type` phi3; llama.cpp's `phi3`).
    public static let phi3 = ModelArchitecture(
        name: "phi3", modelTypes: ["phi3"], classNames: ["Phi3ForCausalLM"], ggufNames: ["phi3"],
        folder: { url, options in
            let config = try Phi3Config.load(directory: url)
            let model = try Phi3Model(config: config, weights: try ModelFolder.weights(url), options: options)
            return FolderModel(model: model, eosTokenIDs: config.eosTokenIds)
        },
        gguf: { file, options in
            let config = try Phi3Config(gguf: file, vocabSize: try file.embeddingRows())
            return try Phi3Model(config: config, weights: GGUFTensorSource(file: file), options: options)
        })
}
