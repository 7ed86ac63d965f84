import Foundation
import PhiJSON
import PhiKernels
import PhiModels
import PhiNN
import PhiTensor
import PhiTokenizer
import PhiWeights

/// A model ready to generate: weights (shared, immutable), tokenizer, stop ids and prompt format.
public final class LoadedModel: @unchecked Sendable {
    public let directory: URL
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let eosTokenIDs: Set<Int>
    public let chatFormat: any ChatFormat
    /// Whether the model's tokenizer puts BOS before raw text (GGUF `tokenizer.ggml.add_bos_token`, HF
    /// tokenizer_config `add_bos_token`); false for Phi-4. Chat prompts carry their own start tokens.
    public let addsBOSToken: Bool

    public init(directory: URL, model: LanguageModel, tokenizer: Tokenizer, eosTokenIDs: Set<Int>, chatFormat: any ChatFormat,
                addsBOSToken: Bool = false) {
        self.directory = directory
        self.model = model
        self.tokenizer = tokenizer
        self.eosTokenIDs = eosTokenIDs
        self.chatFormat = chatFormat
        self.addsBOSToken = addsBOSToken && tokenizer.bosTokenID != nil
    }

    /// Repacks quantized weights in the background once the first token is computed (nil when there were none
    /// to repack). Generation works meanwhile, from the GGML rows, with the same outputs; only speed differs.
    public internal(set) var repacker: WeightRepacker?

    /// Blocks until every weight is in its fastest layout (for benchmarks; generation never needs it).
    public func waitForWeights() { repacker?.wait() }

    deinit { repacker?.cancel() }   // a model no longer wanted is not worth repacking

    public func makeGenerator() -> Generator { Generator(model: model, tokenizer: tokenizer, eosTokenIDs: eosTokenIDs) }

    /// Token ids for a prompt: one user turn in the chat format, or the text as written with special-token
    /// text parsed (`raw`). `tools` (a JSON list of function definitions) goes in the system turn between
    /// `<|tool|>` and `<|/tool|>`, as Phi-4-mini's template does.
    public func promptTokens(_ prompt: String, raw: Bool, system: String? = nil, tools: String? = nil) -> [Int] {
        if raw { return tokenizer.encode(prompt, parseSpecial: true) }
        return chatFormat.encode(Self.turn(prompt, system: system, tools: tools), addGenerationPrompt: true)
    }

    /// One user turn, after a system turn when a system message or tools are given.
    static func turn(_ prompt: String, system: String?, tools: String?) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if system != nil || tools != nil {
            messages.append(ChatMessage(role: "system", content: system ?? "", tools: tools))
        }
        messages.append(ChatMessage(role: "user", content: prompt, tools: nil))
        return messages
    }
}

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
            return LoadedModel(directory: url, model: model, tokenizer: tokenizer, eosTokenIDs: eos,
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
                           addsBOSToken: tokenizer.addsBOSToken ?? false)
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

    /// generation_config.json's eos_token_id (a number or a list), else the config's, else the tokenizer's.
    static func eosTokenIDs(directory: URL, fallback: [Int], tokenizer: Tokenizer) throws -> Set<Int> {
        let url = directory.appendingPathComponent("generation_config.json")
        if let data = try? Data(contentsOf: url) {
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
