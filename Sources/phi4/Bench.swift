import ArgumentParser
import Foundation
import PhiKit

/// Like llama-bench: prompt processing and generation timed separately, tokenization and sampling excluded.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing and generation speed (tokens per second).")

    @Option(name: .long, help: "Model folder or .gguf file (optional with --bandwidth).")
    var model: String?
    @Option(name: .customShort("p"), help: "Prompt tokens (0 skips the prompt test).")
    var promptTokens: Int = 512
    @Option(name: .customShort("n"), help: "Generated tokens (0 skips the generation test).")
    var genTokens: Int = 128
    @Option(name: .customShort("t"), help: "Threads.")
    var threads: Int = Platform.coreCount
    @Option(name: .customShort("r"), help: "Repetitions; the median and spread are reported.")
    var repetitions: Int = 3
    @Option(name: [.customShort("d"), .long], help: "Context depth: the generation tests start with this many prompt tokens already in the cache (computed once, not timed), as llama-bench's -d; attention then reads a context of that length.")
    var depth: Int = 0
    @Option(help: "Generation test with N streams decoded together (one batched forward pass per step); reports the aggregate tokens/s.")
    var parallel: Int = 1
    @Option(help: "Speculative verify cost: also time decode calls of K rows with logits for every row (K = 1 + draft length), comma-separated, e.g. 1,2,5,9,17; reports calls per second (the cache advances one token per call, as after a rejected draft).")
    var verifyRows: String?
    @Option(help: ArgumentHelp(QuantizeHelp.bench))
    var quantize: String?
    @Option(help: "Also time encoding this image with the vision tower (Phi-4-multimodal): preprocessing, SigLIP on every crop and the projector.")
    var image: String?
    @Option(help: "Also time encoding this audio file (Phi-4-multimodal): log-mel features, the conformer and the speech projector.")
    var audio: String?
    @Flag(help: "Measure the memory read bandwidth with -t threads (generation can never beat bandwidth ÷ weight bytes per token).")
    var bandwidth = false
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        try OptionRange.check(promptTokens, "-p", 0...OptionRange.contextTokens.upperBound)
        try OptionRange.check(genTokens, "-n", OptionRange.generatedTokens)
        try OptionRange.check(threads, "-t", OptionRange.threads)
        try OptionRange.check(repetitions, "-r", 1...10_000)
        try OptionRange.check(parallel, "--parallel", 1...256)
        try OptionRange.check(depth, "--depth", 0...OptionRange.contextTokens.upperBound)
        _ = try verifyWidths()
        guard model != nil || bandwidth else { throw ValidationError("--model is required (unless only --bandwidth is measured)") }
    }

    func run() throws {
        try runCLI {
            // Measured first, before model pages compete for the caches.
            let readBandwidth = bandwidth ? MemoryBandwidth.measureRead(parallel: Parallel(threads: threads)) : nil
            guard let model else {
                let gbs = (readBandwidth ?? 0) / 1e9
                if json {
                    Console.write("{\"read_bandwidth_gbs\":\(String(format: "%.2f", gbs)),\"threads\":\(threads)}\n")
                } else {
                    Console.write(String(format: "read bandwidth, %d thread(s): %.1f GB/s\n", threads, gbs))
                }
                return
            }
            let loadStart = DispatchTime.now().uptimeNanoseconds
            guard let q = LoadQuantization(name: quantize ?? "none") else { throw ValidationError("unknown --quantize \(quantize ?? ""): use \(QuantizeHelp.quantizedTypes) or f32") }
            let loaded = try ModelLoader.load(path: model, threads: threads, quantize: q)
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
            let m = loaded.model
            var rng = SeededRandom(seed: 1234)
            let vocab = min(m.vocabularySize, loaded.tokenizer.vocabularySize)
            func randomTokens(_ n: Int) -> [Int] { (0..<n).map { _ in Int(rng.next() % UInt64(max(vocab, 1))) } }
            var results: [[String: Any]] = []
            // Warm-up, as llama-bench does: one single-token pass pages in every weight. Its time is the
            // "first token" latency a user sees after loading.
            let firstStart = DispatchTime.now().uptimeNanoseconds
            _ = try m.forward(randomTokens(1), cache: m.makeCache(maxLength: 1), logits: .last)
            let firstTokenSeconds = Double(DispatchTime.now().uptimeNanoseconds - firstStart) / 1e9
            // Quantized weights are repacked in the background after loading; time the steady state only.
            let repackStart = DispatchTime.now().uptimeNanoseconds
            loaded.waitForWeights()
            let repackSeconds = Double(DispatchTime.now().uptimeNanoseconds - repackStart) / 1e9
            Profiler.shared.reset()
            if promptTokens > 0 {
                let ids = randomTokens(promptTokens)
                let rates = try measure {
                    let cache = m.makeCache(maxLength: ids.count)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try m.forward(ids, cache: cache, logits: .last)
                    return Double(ids.count) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                results.append(row("pp\(promptTokens)", rates))
                if Profiler.shared.enabled { Console.error("prompt processing, all repetitions:\n" + Profiler.shared.report()) }
                Profiler.shared.reset()
            }
            // The context every generation test starts from (`--depth`): computed once, each test gets a copy.
            let base = m.makeCache(maxLength: depth)
            if depth > 0 && genTokens > 0 { _ = try m.forward(randomTokens(depth), cache: base, logits: .last) }
            Profiler.shared.reset()  // the profiles below cover generation only, not the depth's prefill
            func startCache(room: Int) -> KVCache { base.copy(prefix: depth, maxLength: depth + room) }
            let at = depth > 0 ? " @ d\(depth)" : ""
            if genTokens > 0 {
                let rates = try measure {
                    let cache = startCache(room: genTokens + 1)
                    var id = randomTokens(1)[0]
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<genTokens {
                        let logits = try m.forward([id], cache: cache, logits: .last)
                        id = Sampler.argmax(logits)
                    }
                    return Double(genTokens) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                results.append(row("tg\(genTokens)\(at)", rates))
                if Profiler.shared.enabled { Console.error("generation, all repetitions:\n" + Profiler.shared.report()) }
            }
            for k in try verifyWidths() where genTokens > 0 {
                Profiler.shared.reset()
                var cpu: [Double] = []
                let rates = try measure {
                    let cpu0 = Platform.processCPUSeconds()
                    defer { cpu.append((Platform.processCPUSeconds() - cpu0) / Double(genTokens)) }
                    let cache = startCache(room: genTokens + k)
                    var ids = randomTokens(k)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<genTokens {
                        let logits = try m.forward(ids, cache: cache, logits: .all)
                        cache.truncate(to: cache.count - k + 1)
                        ids[0] = Sampler.argmax(Array(logits.prefix(m.vocabularySize)))
                    }
                    return Double(genTokens) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                var r = row("verify\(k)\(at)", rates, key: "calls_per_second")
                // Process CPU seconds per call: with -t 1, the call's cost free of other processes' load.
                r["cpu_seconds_per_call"] = cpu.sorted()[cpu.count / 2]
                results.append(r)
                if Profiler.shared.enabled { Console.error("verify \(k) rows, all repetitions:\n" + Profiler.shared.report()) }
            }
            if genTokens > 0 && parallel > 1 {
                Profiler.shared.reset()
                // N streams, each after its own distinct token, decoded together: genTokens batched steps.
                let rates = try measure {
                    let caches = (0..<parallel).map { _ in startCache(room: genTokens + 1) }
                    var ids = randomTokens(parallel)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<genTokens {
                        let logits = try m.forward(batch: caches.indices.map { BatchItem(tokens: [ids[$0]], cache: caches[$0]) })
                        ids = logits.map { Sampler.argmax($0) }
                    }
                    return Double(parallel * genTokens) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                results.append(row("tg\(genTokens)x\(parallel)\(at)", rates))
                if Profiler.shared.enabled { Console.error("generation, \(parallel) streams, all repetitions:\n" + Profiler.shared.report()) }
            }
            if let image {
                guard let mm = loaded.multimodal else { throw MultimodalError.notMultimodal("images") }
                let decoded = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: (image as NSString).expandingTildeInPath))
                var crops = 0, tokens = 0
                let seconds = try measure {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let input = try Phi4MMImageProcessor().process(decoded)
                    _ = try mm.vision.embed(input)
                    crops = input.cropCount
                    tokens = input.tokenCount
                    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                }
                var r = row("image", seconds: seconds)
                r["crops"] = crops
                r["image_tokens"] = tokens
                r["image_size"] = [decoded.width, decoded.height]
                results.append(r)
                if Profiler.shared.enabled { Console.error("image encoding, all repetitions:\n" + Profiler.shared.report()) }
            }
            if let audio {
                Profiler.shared.reset()
                guard let mm = loaded.multimodal else { throw MultimodalError.notMultimodal("audio") }
                let clip = try AudioDecoder.decode(contentsOf: URL(fileURLWithPath: (audio as NSString).expandingTildeInPath))
                var frames = 0
                let seconds = try measure {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    let (features, n) = try Phi4MMAudioFeatures.extract(clip: clip)
                    _ = try mm.audio.embed(features: features, frames: n, mode: .speech)
                    frames = n
                    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                }
                var r = row("audio", seconds: seconds)
                r["audio_seconds"] = clip.duration
                r["audio_tokens"] = Phi4MMAudioFeatures.tokenCount(frames: frames)
                results.append(r)
                if Profiler.shared.enabled { Console.error("audio encoding, all repetitions:\n" + Profiler.shared.report()) }
            }
            if json {
                let mem = Platform.residentBreakdown()
                var obj: [String: Any] = ["model": model, "threads": threads, "load_seconds": loadSeconds,
                                          "first_token_seconds": firstTokenSeconds,
                                          "load_first_token_seconds": loadSeconds + firstTokenSeconds,
                                          "repack_wait_seconds": repackSeconds,
                                          "peak_resident_bytes": Platform.peakResidentBytes(),
                                          "resident_anonymous_bytes": mem.anonymous, "resident_file_bytes": mem.file,
                                          "results": results]
                if let readBandwidth {
                    obj["read_bandwidth_gbs"] = readBandwidth / 1e9
                    if let bytes = (m as? DecoderLanguageModel)?.weightBytesPerToken { obj["weight_bytes_per_token"] = bytes }
                }
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
                Console.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                let mem = Platform.residentBreakdown()
                Console.write("model: \(model)  threads: \(threads)  load: \(String(format: "%.2f", loadSeconds)) s + first token \(String(format: "%.2f", firstTokenSeconds)) s"
                              + (loaded.repacker == nil ? "" : " (weights repacked \(String(format: "%.2f", repackSeconds)) s later)")
                              + "  "
                              + "resident: \(mem.anonymous >> 20) MiB heap + \(mem.file >> 20) MiB mapped weights\n")
                if let readBandwidth {
                    var line = String(format: "read bandwidth: %.1f GB/s", readBandwidth / 1e9)
                    if let bytes = (m as? DecoderLanguageModel)?.weightBytesPerToken, bytes > 0 {
                        line += String(format: "  weights per token: %.3f GB  generation bound: %.2f tokens/s",
                                       Double(bytes) / 1e9, readBandwidth / Double(bytes))
                    }
                    Console.write(line + "\n")
                }
                for r in results {
                    if let s = r["seconds"] as? Double {
                        let what = r["crops"] != nil ? "\(r["crops"] as? Int ?? 0) crops, \(r["image_tokens"] as? Int ?? 0) tokens"
                            : String(format: "%.1f s of audio, %d tokens", r["audio_seconds"] as? Double ?? 0, r["audio_tokens"] as? Int ?? 0)
                        Console.write(String(format: "%-8@ %10.2f ± %.2f s  (%@)\n", (r["test"] as? String ?? "") as NSString,
                                             s, r["stddev"] as? Double ?? 0, what as NSString))
                        continue
                    }
                    if let c = r["calls_per_second"] as? Double {
                        Console.write(String(format: "%-8@ %10.2f ± %.2f calls/s  (%.2f ms CPU per call)\n",
                                             (r["test"] as? String ?? "") as NSString, c, r["stddev"] as? Double ?? 0,
                                             1000 * (r["cpu_seconds_per_call"] as? Double ?? 0)))
                        continue
                    }
                    Console.write(String(format: "%-8@ %10.2f ± %.2f tokens/s\n", (r["test"] as? String ?? "") as NSString,
                                         r["tokens_per_second"] as? Double ?? 0, r["stddev"] as? Double ?? 0))
                }
            }
        }
    }

    /// The row counts of `--verify-rows` (each in 1…64).
    private func verifyWidths() throws -> [Int] {
        guard let verifyRows else { return [] }
        return try verifyRows.split(separator: ",").map {
            guard let k = Int($0.trimmingCharacters(in: .whitespaces)), (1...64).contains(k) else {
                throw ValidationError("--verify-rows takes row counts in 1…64, got \($0)")
            }
            return k
        }
    }

    private func measure(_ body: () throws -> Double) throws -> [Double] {
        try (0..<repetitions).map { _ in try body() }
    }

    /// A result row: median (under `key`), spread, extremes and the samples.
    private func row(_ test: String, _ rates: [Double], key: String = "tokens_per_second") -> [String: Any] {
        let sorted = rates.sorted()
        let mid = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        let mean = rates.reduce(0, +) / Double(rates.count)
        let sd = (rates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, rates.count - 1))).squareRoot()
        return ["test": test, key: median, "stddev": sd, "min": sorted.first ?? 0, "max": sorted.last ?? 0,
                "samples": rates]
    }

    /// A row of timings in seconds (encoder benchmarks).
    private func row(_ test: String, seconds: [Double]) -> [String: Any] { row(test, seconds, key: "seconds") }
}
