extension ModelArchitecture {
    /// Phi-3, Phi-3.5-mini, Phi-4-mini (`model_type` phi3; llama.cpp's `phi3`).
    public static let phi3 = textModel(Phi3Model.self, name: "phi3", modelTypes: ["phi3"],
                                       classNames: ["Phi3ForCausalLM"], ggufNames: ["phi3"])
}

extension Phi3Config: TextModelConfig {}
extension Phi3Model: TextModelFromConfig {}
