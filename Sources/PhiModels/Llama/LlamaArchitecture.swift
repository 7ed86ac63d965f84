extension ModelArchitecture {
    /// Llama family (`model_type` llama: SmolLM2, Llama 2, Llama 3 without rope scaling; llama.cpp's `llama`).
    public static let llama = textModel(LlamaModel.self, name: "llama", modelTypes: ["llama"],
                                        classNames: ["LlamaForCausalLM"], ggufNames: ["llama"])
}

extension LlamaConfig: TextModelConfig {}
extension LlamaModel: TextModelFromConfig {}
