import Foundation
import PhiWeights

/// The weights of a Hugging Face model folder: its safetensors, or the quantized copy `phi4 quantize` writes
/// (model.gguf with canonical names) when the folder holds no safetensors.
public enum ModelFolder {
    public static func hasQuantizedCopy(_ directory: URL) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: directory.appendingPathComponent(WeightQuantizer.folderFileName).path)
            && !fm.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path)
            && !fm.fileExists(atPath: directory.appendingPathComponent("model.safetensors.index.json").path)
    }

    public static func weights(_ directory: URL) throws -> TensorSource {
        if hasQuantizedCopy(directory) {
            let file = try GGUFFile(url: directory.appendingPathComponent(WeightQuantizer.folderFileName))
            return GGUFTensorSource(file: file, usesCanonicalNames: true)
        }
        return try WeightStore(directory: directory)
    }

    /// The fields of config.json that choose an architecture (`ModelRegistry.architecture(folder:)`) and that
    /// `phi4 quantize` needs before a model is built.
    public struct ConfigHeader: Decodable, Sendable {
        public var modelType: String?
        public var architectures: [String]?
        public var tieWordEmbeddings: Bool?

        enum CodingKeys: String, CodingKey {
            case modelType = "model_type"
            case architectures
            case tieWordEmbeddings = "tie_word_embeddings"
        }
    }

    public static func configHeader(_ directory: URL) throws -> ConfigHeader {
        let url = directory.appendingPathComponent("config.json")
        let data = try ModelFile.read(url)
        return try ConfigDecoder.decode(ConfigHeader.self, from: data, file: url.path)
    }
}
