import Foundation
import PhiWeights

/// Every architecture PhiKit runs, found by a Hugging Face config's `model_type` (or `architectures`) or a
/// GGUF file's `general.architecture`. Adding an architecture: a folder with its config, its model (a
/// `DecoderDescription` when it is a decoder-only transformer) and its `ModelArchitecture` entry, then one line
/// here.
public enum ModelRegistry {
    public static let architectures: [ModelArchitecture] = [.phi3, .phi4MM, .llama]

    /// By `model_type` first, then by the `architectures` class names (configs without a known model_type).
    public static func architecture(modelType: String?, classNames: [String] = []) -> ModelArchitecture? {
        if let t = modelType, let a = architectures.first(where: { $0.modelTypes.contains(t) }) { return a }
        return architectures.first { a in classNames.contains { a.classNames.contains($0) } }
    }

    public static func architecture(ggufName: String) -> ModelArchitecture? {
        architectures.first { $0.ggufNames.contains(ggufName) }
    }

    /// The architecture a folder's config.json names; an unknown name is an `unsupportedArchitecture` error.
    public static func architecture(folder: URL) throws -> ModelArchitecture {
        let header = try ModelFolder.configHeader(folder)
        guard let a = architecture(modelType: header.modelType, classNames: header.architectures ?? []) else {
            let named = header.architectures?.first ?? header.modelType ?? ""
            throw ModelError.unsupportedArchitecture(named.isEmpty ? "(config.json names none)" : named)
        }
        return a
    }

    /// Builds the model of a Hugging Face folder.
    public static func load(folder: URL, options: ModelLoadOptions) throws -> FolderModel {
        try architecture(folder: folder).load(folder: folder, options: options)
    }

    /// Builds the model of a llama.cpp GGUF file.
    public static func load(gguf file: GGUFFile, options: ModelLoadOptions) throws -> LanguageModel {
        let name = file.architecture ?? ""
        guard let a = architecture(ggufName: name) else {
            throw ModelError.unsupportedArchitecture(name.isEmpty ? "(no general.architecture)" : name)
        }
        return try a.load(gguf: file, options: options)
    }

    /// "model_type phi3, phi4mm, …; GGUF phi3, llama" for messages.
    public static var supportedNames: String {
        let types = architectures.flatMap(\.modelTypes).joined(separator: ", ")
        let gguf = architectures.flatMap(\.ggufNames).joined(separator: ", ")
        return "model_type \(types); GGUF \(gguf)"
    }
}

extension GGUFFile {
    /// Rows of the token embedding table: the vocabulary size llama.cpp's files imply.
    func embeddingRows() throws -> Int {
        guard let embd = entry("token_embd.weight") else { throw ModelError.missingWeight("token_embd.weight") }
        return embd.shape.first ?? 0
    }
}
