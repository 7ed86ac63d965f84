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
    @OptionGroup(title: "Constrained output") var constrain: ConstraintOptions
    @OptionGroup var inputLimits: InputLimitOptions

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
    @Option(help: "Speculative decoding: lookup (default: drafts copied from the prompt and output, verified exactly; same output, fewer passes where the answer quotes the input; adaptive, off while drafts are rarely accepted) or none.")
    var draft: DraftMode = .lookup

    @Argument(help: "The prompt.")
    var prompt: String

    /// The tool list exactly as written (the template pastes the string as-is, key order included);
    /// it must parse as a JSON list of function definitions.
    static func readTools(_ path: String, limit: Int = InputLimitOptions.defaultMaxPromptBytes) throws -> ToolList {
        let data: Data
        do { data = try SafeFile.read(path: path, limit: limit) } catch { throw CLIError("\(error)") }
        do {
            return try ToolList(json: String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    func run() throws {
        try runCLI {
            var options = try sampling.options(logprobs: logprobs)
            options.draft = draft
            try inputLimits.check(prompt, "the prompt")
            if let system { try inputLimits.check(system, "the system message") }
            let toolList = try tools.map { try Run.readTools($0, limit: inputLimits.maxPromptBytes) }
            options.constraint = try constrain.constraint(tools: toolList?.json)
            let loaded = try model.load()
            let prepared = try media.prepare(loaded, prompt: prompt, raw: raw, system: system, tools: toolList)
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
                if draft != .none {
                    obj["drafted_tokens"] = result.draftedTokens
                    obj["accepted_draft_tokens"] = result.acceptedDraftTokens
                    obj["draft_calls"] = result.draftCalls
                }
                if let output = ToolCallParser.extract(from: result.generatedTokens, model: loaded), !output.toolCalls.isEmpty {
                    obj["tool_calls"] = output.jsonToolCalls
                }
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
