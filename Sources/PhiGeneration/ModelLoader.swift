import Foundation
import PhiKernels
import PhiModels
import PhiNN
import PhiTensor
import PhiTokenizer
import PhiWeights

/// How weights are held after loading.
public enum LoadQuantization: String, Sendable, CaseIterable {
    /// As stored (memory-mapped, no copy).
    case none
    case q8_0 = "q8_0"
    case q4_0 = "q4_0"
    case q4_K = "q4_k"
    case q6_K = "q6_k"
    /// Every matrix dequantized (or widened) to f32: the unquantized reference of a quantized file.
    case f32 = "f32"

    /// Accepts the names users type: q4, q8, q4_0, Q4_K, f32, …
    public init?(name: String) {
        switch name.lowercased() {
        case "none", "bf16", "f16": self = .none
        case "f32": self = .f32
        case "q8", "q8_0": self = .q8_0
        case "q4", "q4_0": self = .q4_0
        case "q4_k", "q4k": self = .q4_K
        case "q6_k", "q6k": self = .q6_K
        default: return nil
        }
    }

    public var dtype: DType? {
        switch self {
        case .none: return nil
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_K: return .q4_K
        case .q6_K: return .q6_K
        case .f32: return .f32
        }
    }
}

public enum ModelLoader {
    /// Loads a model: a Hugging Face folder (config.json, *.safetensors or a PhiKit-quantized model.gguf,
    /// tokenizer.json) or a llama.cpp .gguf file. A path that does not exist but reads `owner/name` is fetched
    /// from the Hugging Face hub (or found in its local cache) first. `quantize` converts the matrices once at
    /// load time (the original mapping is then no longer read).
    public static func load(path: String, threads: Int? = nil, quantize: LoadQuantization = .none,
                            downloadProgress: (@Sendable (String, Int64, Int64?) -> Void)? = nil) throws -> LoadedModel {
        let parallel = Parallel(threads: threads)
        let repacker = WeightRepacker(parallel: parallel)
        let loaded = try WeightRepacker.$collecting.withValue(repacker) {
            try build(path: path, parallel: parallel, quantize: quantize, downloadProgress: downloadProgress)
        }
        if repacker.remaining > 0 { loaded.repacker = repacker }
        return loaded
    }

    private static func build(path: String, parallel: Parallel, quantize: LoadQuantization,
                              downloadProgress: (@Sendable (String, Int64, Int64?) -> Void)?) throws -> LoadedModel {
        var url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path), HubDownloader.isRepositoryID(path) {
            url = try HubDownloader().snapshot(repo: path, progress: downloadProgress ?? { _, _, _ in })
        }
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.missingFile(url.path)
        }
        let transform = quantize.dtype.map { WeightQuantizer(type: $0).transform }
        if !isDir.boolValue {
            guard url.pathExtension.lowercased() == "gguf" else {
                throw ModelError.unsupported("\(url.path) is neither a model folder (config.json, *.safetensors) nor a .gguf file")
            }
            return try loadGGUF(url, parallel: parallel, transform: transform)
        }
        if Phi4MMConfig.isMultimodal(directory: url) {
            let model = try Phi4MMModel(directory: url, parallel: parallel, transform: transform)
            let tokenizer = try Tokenizer(directory: url)
            var eos = try eosTokenIDs(directory: url, fallback: model.config.language.eosTokenIds, tokenizer: tokenizer)
            // The multimodal generation_config is assumed to match Phi-4-mini's; make sure <|end|> stops a turn.
            if let end = tokenizer.specialTokenID("<|end|>") { eos.insert(end) }
            return LoadedModel(directory: url, multimodal: model, tokenizer: tokenizer, eosTokenIDs: eos,
                               chatFormat: try ChatFormats.detect(tokenizer: tokenizer, template: tokenizer.chatTemplate))
        }
        let config = try Phi3Config.load(directory: url)
        let quantized = url.appendingPathComponent(WeightQuantizer.folderFileName)
        let source: TensorSource
        if FileManager.default.fileExists(atPath: quantized.path),
           !FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path),
           !FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors.index.json").path) {
            source = GGUFTensorSource(file: try GGUFFile(url: quantized), usesCanonicalNames: true)
        } else {
            source = try WeightStore(directory: url)
        }
        let model = try Phi3Model(config: config, weights: source, parallel: parallel, transform: transform)
        let tokenizer = try Tokenizer(directory: url)
        let eos = try eosTokenIDs(directory: url, fallback: model.config.eosTokenIds, tokenizer: tokenizer)
        return LoadedModel(directory: url, model: model, tokenizer: tokenizer, eosTokenIDs: eos,
                           chatFormat: try ChatFormats.detect(tokenizer: tokenizer, template: tokenizer.chatTemplate),
                           addsBOSToken: addsBOSToken(directory: url))
    }

    /// A llama.cpp GGUF: architecture, weights, tokenizer and chat template all come from the file.
    static func loadGGUF(_ url: URL, parallel: Parallel, transform: WeightTransform?) throws -> LoadedModel {
        let file = try GGUFFile(url: url)
        let model = try GGUFModelFactory.makeModel(file: file, parallel: parallel, transform: transform)
        let tokenizer = try GGUFTokenizer.load(from: file)
        let cfg = try GGUFTokenizer.configuration(from: file)
        var eos = Set([cfg.eosTokenID, cfg.eotTokenID].compactMap { $0 })
        // Phi-4's files mark <|endoftext|> as eos; the turn end <|end|> must stop generation too.
        if let end = tokenizer.specialTokenID("<|end|>") { eos.insert(end) }
        if let imEnd = tokenizer.specialTokenID("<|im_end|>") { eos.insert(imEnd) }
        return LoadedModel(directory: url, model: model, tokenizer: tokenizer, eosTokenIDs: eos,
                           chatFormat: try ChatFormats.detect(tokenizer: tokenizer, template: cfg.chatTemplate),
                           addsBOSToken: cfg.addBOSToken ?? false)
    }

    /// tokenizer_config.json's `add_bos_token` (false when absent or unreadable; the tokenizer load reports
    /// a malformed file).
    static func addsBOSToken(directory: URL) -> Bool {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("tokenizer_config.json")),
              let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return (j["add_bos_token"] as? Bool) ?? false
    }

    /// generation_config.json's eos_token_id (a number or a list), else the config's, else the tokenizer's.
    static func eosTokenIDs(directory: URL, fallback: [Int], tokenizer: Tokenizer) throws -> Set<Int> {
        let url = directory.appendingPathComponent("generation_config.json")
        if let data = try? Data(contentsOf: url) {
            guard let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelError.malformedConfig(file: url.path, reason: "not a valid JSON object")
            }
            if let list = j["eos_token_id"] as? [NSNumber] { return Set(list.map { $0.intValue }) }
            if let one = j["eos_token_id"] as? NSNumber { return [one.intValue] }
        }
        if !fallback.isEmpty { return Set(fallback) }
        return Set([tokenizer.eosTokenID].compactMap { $0 })
    }
}
