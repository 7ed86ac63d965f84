import ArgumentParser
import Foundation
import PhiKit

/// Like llama.cpp's llama-perplexity: perplexity on a text file, and with --compare the divergence from a
/// reference model (KL, top-1 agreement) on the same windows.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Measure perplexity on a text file, and the divergence of a (quantized) model from a reference.",
        discussion: """
        The file is tokenized as raw text (no chat template; BOS first when the model's tokenizer adds one), \
        cut into non-overlapping windows of --ctx tokens, and each window runs from an empty KV cache. As in \
        llama.cpp, only the second half of each window is scored: the logits at positions ctx/2 … ctx−2 \
        predict the next token, ctx − ctx/2 − 1 tokens per window, each with at least ctx/2 tokens of \
        context. Perplexity = exp(mean negative log-likelihood), ± its first-order standard error.

        --compare REF runs the same windows through a reference model (e.g. the f32 original of a quantized \
        model; REF may be the same path with another --compare-quantize) and reports, over the scored \
        tokens, KL(reference ‖ model) (mean ± standard error, median, 99th percentile, maximum), top-1 \
        agreement (how often both models' most likely token is the same) and both perplexities.

        Examples:
          phi4 perplexity --model SmolLM2-135M-Instruct.Q4_1.gguf --file /usr/share/common-licenses/GPL-3
          phi4 perplexity --model M.gguf --quantize q4_k --compare M.gguf --compare-quantize f32 --file TEXT
          phi4 perplexity --model DIR-bf16 --quantize q4 --compare DIR-f32 --file TEXT --chunks 2 --json
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "UTF-8 text file to score.")
    var file: String
    @Option(help: "Tokens per window (at most the model's context).")
    var ctx: Int = 512
    @Option(help: "Score only the first N windows (default: all the text holds).")
    var chunks: Int?
    @Option(help: "Reference model (folder or .gguf) to compare against: KL divergence, top-1 agreement, both perplexities.")
    var compare: String?
    @Option(help: ArgumentHelp(QuantizeHelp.reference))
    var compareQuantize: String?
    @Flag(help: "Print one JSON object instead of the text report.")
    var json = false

    func validate() throws {
        if let c = chunks { try OptionRange.check(c, "--chunks", 1...Int(Int32.max)) }
        // below 4 is PerplexityError.contextTooSmall when the run starts; here only what no model can hold
        if ctx > OptionRange.contextTokens.upperBound { try OptionRange.check(ctx, "--ctx", 4...OptionRange.contextTokens.upperBound) }
        if compareQuantize != nil && compare == nil { throw ValidationError("--compare-quantize needs --compare") }
        if let q = compareQuantize, LoadQuantization(name: q) == nil { throw ValidationError("unknown --compare-quantize \(q)") }
    }

    func run() throws {
        try runCLI {
            let text = try InputLimitOptions.readText(file, limit: 1 << 30, flag: "--file")
            guard ctx >= 4 else { throw PerplexityError.contextTooSmall(ctx) }

            let loaded = try model.load()
            var reference: LoadedModel?
            if let compare {
                let q = LoadQuantization(name: compareQuantize ?? "none") ?? .none
                reference = try ModelLoader.load(path: compare, threads: model.threads, quantize: q,
                                                 downloadProgress: Console.downloadProgress)
            }
            let evaluator = try PerplexityEvaluator(model: loaded, reference: reference, context: ctx,
                                                    modelName: model.model, referenceName: compare ?? "")
            let result = try evaluator.evaluate(text: text, chunks: chunks) { done, total, r in
                var line = String(format: "\rchunk %d/%d: PPL %.4f", done, total, r.model.perplexity)
                if let d = r.divergence {
                    line += String(format: ", mean KL %.6f, top-1 %.2f%%", d.mean, 100 * d.topAgreement)
                }
                let perChunk = r.seconds / Double(done)
                line += String(format: " (%.1f s/chunk, %.0f s left)   ", perChunk, perChunk * Double(total - done))
                Console.error(line, newline: done == total)
            }
            if json {
                try printJSON(result)
            } else {
                printText(result)
            }
        }
    }

    private func printText(_ r: PerplexityResult) {
        var out = "model: \(model.model)\(model.quantize.map { " (--quantize \($0))" } ?? "")\n"
        out += "file: \(file): \(r.textTokens) tokens, \(r.chunks) of \(r.availableChunks) windows of \(r.context), "
            + "\(r.scoredTokens) tokens scored, \(String(format: "%.1f", r.seconds)) s\n"
        out += String(format: "PPL = %.4f +/- %.5f\n", r.model.perplexity, r.model.perplexityError)
        if let ref = r.reference, let d = r.divergence {
            out += "reference: \(compare ?? "")\(compareQuantize.map { " (--compare-quantize \($0))" } ?? "")\n"
            out += String(format: "reference PPL = %.4f +/- %.5f\n", ref.perplexity, ref.perplexityError)
            out += String(format: "ln(PPL/PPL_ref) = %.6f\n", r.model.meanNLL - ref.meanNLL)
            out += String(format: "mean KL(ref || model) = %.6f +/- %.6f\n", d.mean, d.meanError)
            out += String(format: "median KL = %.6f, 99%% KL = %.6f, max KL = %.6f\n", d.percentile(0.5), d.percentile(0.99), d.maximum)
            out += String(format: "top-1 agreement = %.3f +/- %.3f %%\n", 100 * d.topAgreement, 100 * d.topAgreementError)
        }
        Console.write(out)
    }

    private func printJSON(_ r: PerplexityResult) throws {
        var obj: [String: Any] = [
            "model": model.model, "quantize": model.quantize ?? "none", "file": file, "context": r.context,
            "chunks": r.chunks, "available_chunks": r.availableChunks, "text_tokens": r.textTokens,
            "scored_tokens": r.scoredTokens, "perplexity": r.model.perplexity,
            "perplexity_error": r.model.perplexityError, "mean_nll": r.model.meanNLL,
            "chunk_perplexities": r.runningPerplexity, "seconds": r.seconds,
        ]
        if let ref = r.reference, let d = r.divergence {
            obj["reference"] = ["model": compare ?? "", "quantize": compareQuantize ?? "none",
                                "perplexity": ref.perplexity, "perplexity_error": ref.perplexityError,
                                "mean_nll": ref.meanNLL] as [String: Any]
            obj["kl_divergence"] = ["mean": d.mean, "error": d.meanError, "median": d.percentile(0.5),
                                    "p99": d.percentile(0.99), "p999": d.percentile(0.999), "max": d.maximum]
            obj["top1_agreement"] = d.topAgreement
            obj["top1_agreement_error"] = d.topAgreementError
        }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
        Console.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}
