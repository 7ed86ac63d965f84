import ArgumentParser
import Foundation
import PhiKit
import PhiWeights

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the float32 logits of every prompt position, shape [T, vocab], to a NumPy .npy file.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var media: MediaOptions
    @OptionGroup var inputLimits: InputLimitOptions
    @Flag(help: "Send PROMPT as written (special-token text included) instead of as one user turn.")
    var raw = false
    @Option(help: "Output .npy file.")
    var out: String
    @Argument(help: "The prompt.")
    var prompt: String

    func run() throws {
        try runCLI {
            try inputLimits.check(prompt, "the prompt")
            let loaded = try model.load()
            let prepared = try media.prepare(loaded, prompt: prompt, raw: raw)
            let ids = prepared.tokens
            guard !ids.isEmpty else { throw GenerationError.emptyPrompt }
            guard ids.count <= loaded.model.contextLength else {
                throw GenerationError.promptTooLong(tokens: ids.count, limit: loaded.model.contextLength)
            }
            let cache = loaded.model.makeCache(maxLength: ids.count)
            let logits = try loaded.model.forward(ids, cache: cache, logits: .all, conditioning: prepared.conditioning)
            try NpyWriter.write(path: out, shape: [ids.count, loaded.model.vocabularySize], values: logits)
            Console.error("wrote \(out): [\(ids.count), \(loaded.model.vocabularySize)] float32")
        }
    }
}
