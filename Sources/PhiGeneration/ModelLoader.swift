import Foundation
import PhiKernels
import PhiModels
import PhiTokenizer

/// A model ready to generate: weights (shared, immutable), tokenizer, stop ids and prompt format.
public final class LoadedModel: @unchecked Sendable {
    public let directory: URL
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let eosTokenIDs: Set<Int>
    public let chatFormat: PhiChatFormat

    public init(directory: URL, model: LanguageModel, tokenizer: Tokenizer, eosTokenIDs: Set<Int>, chatFormat: PhiChatFormat) {
        self.directory = directory
        self.model = model
        self.tokenizer = tokenizer
        self.eosTokenIDs = eosTokenIDs
        self.chatFormat = chatFormat
    }

    public func makeGenerator() -> Generator { Generator(model: model, tokenizer: tokenizer, eosTokenIDs: eosTokenIDs) }

    /// Token ids for a prompt: one user turn in the chat format, or the text as written with special-token
    /// text parsed (`raw`).
    public func promptTokens(_ prompt: String, raw: Bool, system: String? = nil) -> [Int] {
        if raw { return tokenizer.encode(prompt, parseSpecial: true) }
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system, tools: nil)) }
        messages.append(ChatMessage(role: "user", content: prompt, tools: nil))
        return chatFormat.encode(messages, addGenerationPrompt: true)
    }
}

public enum ModelLoader {
    /// Loads a Hugging Face model folder (config.json, *.safetensors, tokenizer.json).
    public static func load(path: String, threads: Int? = nil) throws -> LoadedModel {
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.missingFile(url.path)
        }
        guard isDir.boolValue else {
            throw ModelError.unsupported("\(url.path) is not a model folder (expected a Hugging Face folder with config.json)")
        }
        let parallel = Parallel(threads: threads)
        let model = try Phi3Model(directory: url, parallel: parallel)
        let tokenizer = try Tokenizer(directory: url)
        let eos = try eosTokenIDs(directory: url, fallback: model.config.eosTokenIds, tokenizer: tokenizer)
        return LoadedModel(directory: url, model: model, tokenizer: tokenizer, eosTokenIDs: eos,
                           chatFormat: try PhiChatFormat(tokenizer: tokenizer))
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
