import Foundation
import PhiJSON
import PhiKernels
import PhiModels
import PhiNN
import PhiTensor
import PhiTokenizer
import PhiWeights

public enum ModelLoader {
    /// Loads a model: a Hugging Face folder (config.json, *.safetensors or a PhiKit-quantized model.gguf,
    /// tokenizer.json) or a llama.cpp .gguf file. A path that does not exist but reads `owner/name` is fetched
    /// from the Hugging Face hub (or found in its local cache) first. `quantize` converts the matrices once at
    /// load time (the original mapping is then no longer read).
    public static func load(path: String, threads: Int? = nil, quantize: LoadQuantization = .none,
                            downloadProgress: (@Sendable (String, Int64, Int64?) -> Void)? = nil) throws -> LoadedModel {
        let parallel = Parallel(threads: threads)
        let repacker = WeightRepacker(parallel: parallel)
        let options = ModelLoadOptions(parallel: parallel, transform: quantize.dtype.map { WeightQuantizer(type: $0).transform },
                                       repacker: repacker)
        let loaded = try build(path: path, options: options, downloadProgress: downloadProgress)
        if repacker.remaining > 0 { loaded.repacker = repacker }
        return loaded
    }

    /// A model path resolved to what is on disk.
    enum ModelLocation {
        case folder(URL)
        case gguf(URL)
    }

    /// `path` as a Hugging Face folder or a .gguf file; a path that does not exist but reads `owner/name` is
    /// fetched from the hub (or found in its local cache) first.
    static func resolve(path: String, downloadProgress: (@Sendable (String, Int64, Int64?) -> Void)?) throws -> ModelLocation {
        var url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path), HubDownloader.isRepositoryID(path) {
            url = try HubDownloader().snapshot(repo: path, progress: downloadProgress ?? { _, _, _ in })
        }
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.missingFile(url.path)
        }
        if isDir.boolValue { return .folder(url) }
        guard url.pathExtension.lowercased() == "gguf" else {
            throw ModelError.unsupported("\(url.path) is neither a model folder (config.json, *.safetensors) nor a .gguf file")
        }
        return .gguf(url)
    }

    /// Resolves `path` and builds the model the registry names for it.
    private static func build(path: String, options: ModelLoadOptions,
                              downloadProgress: (@Sendable (String, Int64, Int64?) -> Void)?) throws -> LoadedModel {
        let url: URL
        switch try resolve(path: path, downloadProgress: downloadProgress) {
        case .gguf(let file): return try loadGGUF(file, options: options)
        case .folder(let folder): url = folder
        }
        let built = try ModelRegistry.load(folder: url, options: options)
        let tokenizer = try Tokenizer(directory: url)
        var eos = try eosTokenIDs(directory: url, fallback: built.eosTokenIDs, tokenizer: tokenizer)
        for text in built.turnEndTokens { if let id = tokenizer.specialTokenID(text) { eos.insert(id) } }
        let chatFormat = try ChatFormats.detect(tokenizer: tokenizer, template: tokenizer.chatTemplate)
        if let multimodal = built.multimodal {
            return LoadedModel(directory: url, multimodal: multimodal, tokenizer: tokenizer, eosTokenIDs: eos,
                               chatFormat: chatFormat, addsBOSToken: tokenizer.addsBOSToken ?? false)
        }
        return LoadedModel(directory: url, model: built.model, tokenizer: tokenizer, eosTokenIDs: eos,
                           chatFormat: chatFormat, addsBOSToken: tokenizer.addsBOSToken ?? false)
    }

    /// A llama.cpp GGUF: architecture, weights, tokenizer and chat template all come from the file.
    static func loadGGUF(_ url: URL, options: ModelLoadOptions) throws -> LoadedModel {
        let file = try GGUFFile(url: url)
        let model = try ModelRegistry.load(gguf: file, options: options)
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

    /// generation_config.json's eos_token_id (a number or a list), else the config's, else the tokenizer's.
    static func eosTokenIDs(directory: URL, fallback: [Int], tokenizer: Tokenizer) throws -> Set<Int> {
        let url = directory.appendingPathComponent("generation_config.json")
        if let data = try ModelFile.readIfPresent(url) {
            let config: GenerationConfigFile
            do {
                config = try PhiJSONDecoder().decode(GenerationConfigFile.self, from: data)
            } catch {
                throw ModelError.malformedConfig(file: url.path, reason: PhiJSONDecoder.message(for: error))
            }
            if let ids = config.eosTokenId?.values { return Set(ids) }
        }
        if !fallback.isEmpty { return Set(fallback) }
        return Set([tokenizer.eosTokenID].compactMap { $0 })
    }
}
