import ArgumentParser
import Foundation
import PhiKit

/// Times the constraint engine for tools/constraint/bench.py: per case, preprocessing (compile with per-node
/// tables) and the mask computation at every prefix of a given token sequence (then advancing by that token).
/// Hidden: a measurement hook, not a user command.
struct ConstraintBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "constraint-bench", abstract: "Time constrained-decoding masks (for tools/constraint).",
        shouldDisplay: false)

    @Option(help: "Tokenizer folder (tokenizer.json).")
    var tokenizer: String
    @Option(help: "JSON lines: {\"name\", \"kind\": json_schema|json_object|regex|grammar|tool_call, \"value\", \"tokens\": [ids]}.")
    var cases: String
    @Option(help: "Repetitions of each mask timing (the minimum is kept, as the Python side does).")
    var repeats: Int = 3
    @Flag(help: "Also time one generation step's sampling with and without a mask (greedy, 200,064 logits).")
    var samplerOverhead = false

    func validate() throws {
        try OptionRange.check(repeats, "--repeats", 1...10_000)
    }

    func run() throws {
        try runCLI {
            let tok = try Tokenizer(directory: URL(fileURLWithPath: tokenizer))
            // Regular files only (a FIFO is an error, not a hang), at most 1 GiB.
            let data = Data(try InputLimitOptions.readText(cases, limit: 1 << 30, flag: "--cases").utf8)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try Constraint.regex("x").compile(for: tok, useCache: false)  // builds the shared vocabulary trie
            let trieSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            Console.write("{\"trie_seconds\":\(trieSeconds)}\n")
            if samplerOverhead { try Self.samplerOverhead(tok) }
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                guard let obj = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let name = obj["name"] as? String, let kind = obj["kind"] as? String,
                      let tokens = (obj["tokens"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }) else {
                    throw CLIError("bad case line")
                }
                let value = obj["value"] as? String ?? ""
                let constraint: Constraint
                switch kind {
                case "json_schema": constraint = .jsonSchema(value)
                case "json_object": constraint = .jsonObject
                case "regex": constraint = .regex(value)
                case "grammar": constraint = .grammar(value)
                case "tool_call": constraint = .toolCall(tools: value, name: obj["tool_name"] as? String)
                default: throw CLIError("unknown kind \(kind)")
                }
                var result: [String: Any] = ["name": name]
                do {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let c = try constraint.compile(for: tok, useCache: false)
                    result["preprocess_ms"] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    result["states"] = c.stateCount
                    var matcher = c.makeMatcher()
                    var mask = TokenMask(count: c.vocabularySize)
                    var times: [Double] = []
                    var rejected: Int? = nil
                    for (i, id) in tokens.enumerated() {
                        var best = Double.infinity
                        let before = matcher  // every repetition starts from the same state and mask cache
                        for r in 0..<repeats {
                            var m = before
                            let s = DispatchTime.now().uptimeNanoseconds
                            m.allowedTokens(into: &mask)
                            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e3)
                            if r == 0 { matcher = m }
                        }
                        times.append(best)
                        if !mask.contains(id) || !matcher.accept(token: id) { rejected = i; break }
                    }
                    result["mask_us"] = times
                    if let rejected { result["rejected_at"] = rejected }
                } catch {
                    result["error"] = "\(error)"
                }
                let out = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
                Console.write(String(decoding: out, as: UTF8.self) + "\n")
            }
        }
    }

    /// The per-step cost a constraint adds to decoding: mask + masked sampling against plain sampling, in the
    /// state that costs most (inside a string: nearly every token allowed, a dense mask to apply).
    static func samplerOverhead(_ tok: Tokenizer) throws {
        let vocab = 200_064
        var rng = SeededRandom(seed: 7)
        let logits = (0..<vocab).map { _ in Float(rng.nextUnitFloat()) }
        let c = try Constraint.jsonSchema(#"{"type":"object","properties":{"s":{"type":"string"}},"required":["s"]}"#).compile(for: tok)
        var m = c.makeMatcher()
        _ = m.accept(bytes: Array(#"{"s":"ab"#.utf8))
        var sampler = Sampler(SamplingParameters())
        func time(_ body: () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<20 {
                let s = DispatchTime.now().uptimeNanoseconds
                body()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - s) / 1e3)
            }
            return best
        }
        var sink = 0
        let plain = time { sink &+= sampler.sample(logits: logits, context: [], generated: []) }
        let masked = time {
            let mask = m.mask(endTokens: [200020])
            sink &+= sampler.sample(logits: logits, context: [], generated: [], allowed: mask)
        }
        Console.write("{\"sample_plain_us\":\(plain),\"sample_masked_us\":\(masked),\"sink\":\(sink % 2)}\n")
    }
}
