import Foundation

extension ModelArchitecture {
    /// Phi-4-multimodal-instruct in either published layout (`model_type` phi4mm: original hub code;
    /// phi4_multimodal: transformers-native). No GGUF form.
    public static let phi4MM = ModelArchitecture(
        name: "phi4mm", modelTypes: ["phi4mm", "phi4_multimodal"], classNames: ["Phi4MMForCausalLM", "Phi4MultimodalForCausalLM"], ggufNames: [],
        folder: { url, options in
            let model = try Phi4MMModel(directory: url, options: options)
            return FolderModel(multimodal: model, eosTokenIDs: model.config.language.eosTokenIds, turnEndTokens: ["<|end|>"])
        },
        gguf: nil)
}
