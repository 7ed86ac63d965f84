import ArgumentParser
import Foundation
import PhiJSON
import PhiKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a reply to one prompt, streamed as it is produced.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var media: MediaOptions

    @Flag(help: "Send PROMPT as written (special-token text included) instead of as one user turn.")
    var raw = false
    @Option(help: "System message (chat format only).")
    var system: String?
    @Option(help: "JSON file with a list of tool (function) definitions, placed in the system turn.")
    var tools: String?
    @Flag(help: "Print one JSON object with token ids, text and speeds instead of streaming text.")
    var json = false
    @Flag(help: "Include the log-probability of each generated token in the JSON output.")
    var logprobs = false

    @Argument(help: "The prompt.")
    var prompt: String

    /// The tool list exactly as written (the template pastes the string as-is, key order included);
    /// it must parse as a JSON list.
    static func readTools(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(data) } catch {
            throw CLIError("\(path): expected a JSON list of tool definitions, but it is not valid JSON: \(error)")
        }
        guard parsed.arrayValue != nil else { throw CLIError("\(path): expected a JSON list of tool definitions") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func run() throws {
        try runCLI {
            let options = try sampling.options(logprobs: logprobs)
            let loaded = try model.load()
            let toolText = try tools.map(Run.readTools)
            let prepared = try media.prepare(loaded, prompt: prompt, raw: raw, system: system, tools: toolText)
            let generator = loaded.makeGenerator()
            let result = try generator.generate(prompt: prepared.tokens, options: options,
                                                conditioning: prepared.conditioning) { tok in
                if !json { Console.write(tok.text) }
                return true
            }
            if json {
                var obj: [String: Any] = [
                    "prompt_tokens": result.promptTokens,
                    "generated_tokens": result.generatedTokens,
                    "text": result.text,
                    "finish_reason": result.finishReason.rawValue,
                    "prefill_tokens_per_second": result.prefillTokensPerSecond,
                    "decode_tokens_per_second": result.decodeTokensPerSecond,
                ]
                if let lp = result.logprobs { obj["logprobs"] = lp }
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
                Console.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                Console.write("\n")
                Console.error(String(format: "prompt: %d tokens, %.2f tokens/s | generated: %d tokens, %.2f tokens/s",
                                     result.promptTokens.count, result.prefillTokensPerSecond,
                                     result.generatedTokens.count, result.decodeTokensPerSecond))
            }
        }
    }
}
