import ArgumentParser
import Foundation
import PhiKit

@main
struct Phi4: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phi4",
        abstract: "Run Microsoft Phi-4 models on the CPU.",
        discussion: """
        MODEL is a Hugging Face model folder (config.json, *.safetensors, tokenizer.json), a hub id
        (owner/name), or a llama.cpp .gguf file.
        Examples:
          phi4 run --model ~/models/Phi-4-mini-instruct "Explain LongRoPE in two sentences."
          phi4 chat --model ~/models/Phi-4-mini-instruct
          phi4 run --model ~/models/Phi-4-multimodal-instruct --image receipt.jpg "What is the total?"
          phi4 transcribe --model ~/models/Phi-4-multimodal-instruct --format srt interview.flac
          phi4 perplexity --model DIR --quantize q4 --compare DIR --file text.txt
        """,
        subcommands: [Run.self, Chat.self, Serve.self, Transcribe.self, Logits.self, Tokenize.self, Bench.self, PerplexityCommand.self,
                      Quantize.self, ConstraintBench.self])
}

/// Options every model command shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model folder (Hugging Face layout), a llama.cpp .gguf file, or a hub id such as microsoft/Phi-4-mini-instruct (downloaded once into the Hugging Face cache).")
    var model: String

    @Option(name: [.customShort("t"), .long], help: "Threads to use (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp(QuantizeHelp.loadTime))
    var quantize: String?

    func validate() throws {
        if let t = threads { try OptionRange.check(t, "--threads", OptionRange.threads) }
    }

    func load() throws -> LoadedModel {
        if let t = threads { try OptionRange.check(t, "--threads", OptionRange.threads) }
        var q = LoadQuantization.none
        if let name = quantize {
            guard let parsed = LoadQuantization(name: name) else { throw ValidationError("unknown --quantize \(name): use \(QuantizeHelp.quantizedTypes) or f32") }
            q = parsed
        }
        return try ModelLoader.load(path: model, threads: threads, quantize: q, downloadProgress: Console.downloadProgress)
    }
}

struct SamplingOptions: ParsableArguments {
    @Option(help: "Most tokens to generate.")
    var maxTokens: Int = 512
    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0
    @Option(help: "Keep only the K most likely tokens (0: off).")
    var topK: Int = 0
    @Option(help: "Nucleus sampling: keep the smallest set with this much probability (1: off).")
    var topP: Float = 1
    @Option(help: "Drop tokens less likely than this fraction of the top token (0: off).")
    var minP: Float = 0
    @Option(help: "Repetition penalty (1: off).")
    var repeatPenalty: Float = 1
    @Option(help: "Presence penalty, -2…2.")
    var presencePenalty: Float = 0
    @Option(help: "Frequency penalty, -2…2.")
    var frequencyPenalty: Float = 0
    @Option(help: "Random seed; the same seed gives the same output.")
    var seed: UInt64?
    @Option(name: .customLong("stop"), help: "Stop before this text (repeatable).")
    var stop: [String] = []

    /// Checked when the command line is parsed, before a model is loaded.
    func validate() throws { _ = try options() }

    func options(logprobs: Bool = false) throws -> GenerationOptions {
        try OptionRange.check(maxTokens, "--max-tokens", OptionRange.generatedTokens)
        try OptionRange.check(topK, "--top-k", 0...Int(Int32.max))
        let s = SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                   repetitionPenalty: repeatPenalty, presencePenalty: presencePenalty,
                                   frequencyPenalty: frequencyPenalty, seed: seed)
        do { try s.validate() } catch { throw ValidationError("\(error)") }
        return GenerationOptions(maxTokens: maxTokens, sampling: s, stop: stop, logprobs: logprobs)
    }
}

/// Writes to stdout without buffering delays (streamed tokens must appear as they come).
enum Console {
    static func write(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }
    /// A progress line on stderr, rewritten in place, for hub downloads.
    @Sendable static func downloadProgress(_ file: String, _ done: Int64, _ total: Int64?) {
        let mb = Double(done) / 1_048_576
        let line: String
        if let total, total > 0 {
            line = String(format: "\rdownloading %@: %.1f / %.1f MiB (%.0f%%)", file, mb, Double(total) / 1_048_576,
                          100 * Double(done) / Double(total))
        } else {
            line = String(format: "\rdownloading %@: %.1f MiB", file, mb)
        }
        FileHandle.standardError.write(Data(line.utf8))
        if let total, done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func error(_ s: String, newline: Bool = true) {
        FileHandle.standardError.write(Data((newline ? s + "\n" : s).utf8))
    }
}

/// Turns any library error into ArgumentParser's clean "Error: …" output and exit code 1.
func runCLI<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ValidationError { throw e } catch let e as ExitCode { throw e } catch {
        Console.error("error: \(error)")
        throw ExitCode.failure
    }
}
