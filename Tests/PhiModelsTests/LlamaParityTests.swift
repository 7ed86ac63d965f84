import Foundation
import PhiKernels
import PhiModels
import PhiNN
import PhiWeights
import XCTest
import PhiTestSupport

/// Hugging Face Llama folders (SmolLM2's layout) against transformers' LlamaForCausalLM on tiny random models:
/// llama-tiny is a plain Llama (tied head, SiLU, no biases); llama-tiny-variant has q/k/v/o and MLP biases,
/// gelu_pytorch_tanh, head_dim ≠ hidden/heads, one KV head and an untied head. Both are f32, so the bound is
/// the f32 one of the Phi-3 fixtures.
final class LlamaParityTests: XCTestCase {
    let tolerance = Tolerance.float32

    func load(_ f: ReferenceFixture) throws -> LlamaModel {
        let config = try LlamaConfig.load(directory: f.directory)
        return try LlamaModel(config: config, weights: try WeightStore(directory: f.directory),
                              options: ModelLoadOptions(parallel: Parallel(threads: 2)))
    }

    func checkPrompt(_ fixtureName: String, _ caseName: String) throws {
        let f = try ReferenceFixture(fixtureName)
        let model = try load(f)
        let ids = try f.ints(caseName, "input_ids")
        var layerOut: [Int: [Float]] = [:]
        var finalNorm: [Float] = []
        var embeddings: [Float] = []
        let logits = try model.forward(ids, cache: model.makeCache(maxLength: nil), logits: .all) { name, layer, values, _, _ in
            switch name {
            case "layer": layerOut[layer] = Array(values)
            case "final_norm": finalNorm = Array(values)
            case "embeddings": embeddings = Array(values)
            default: break
            }
        }
        let ref = try f.tensor("\(caseName).logits")
        XCTAssertEqual(ref.shape, [ids.count, model.vocabularySize])
        let d = Difference(logits, ref.values)
        XCTAssertLessThanOrEqual(d.maxAbs, tolerance, "\(fixtureName) \(caseName) logits: \(d)")
        XCTAssertEqual(try f.tensor("\(caseName).embeddings").values, embeddings)
        for l in 0..<model.config.numHiddenLayers {
            let dl = Difference(layerOut[l] ?? [], try f.tensor("\(caseName).layers.\(l).out").values)
            XCTAssertLessThanOrEqual(dl.maxAbs, tolerance, "\(fixtureName) \(caseName) layer \(l): \(dl)")
        }
        let dn = Difference(finalNorm, try f.tensor("\(caseName).final_norm").values)
        XCTAssertLessThanOrEqual(dn.maxAbs, tolerance, "\(fixtureName) \(caseName) final norm: \(dn)")
        let V = model.vocabularySize
        let argmax = (0..<ids.count).map { t in Sampler_argmax(Array(logits[(t * V)..<((t + 1) * V)])) }
        XCTAssertEqual(argmax, try f.ints(caseName, "argmax_per_position"))
    }

    /// Token-by-token decoding with the cache gives transformers' generate() logits at every step, and the same
    /// greedy continuation.
    func checkIncremental(_ fixtureName: String, _ caseName: String) throws {
        let f = try ReferenceFixture(fixtureName)
        let model = try load(f)
        let prompt = try f.ints(caseName, "prompt_ids")
        let generated = try f.ints(caseName, "generated_ids")
        let ref = try f.tensor("\(caseName).step_logits")
        let V = model.vocabularySize
        let cache = model.makeCache(maxLength: nil)
        var logits = try model.forward(prompt, cache: cache, logits: .last)
        var mine: [Int] = []
        for step in 0..<generated.count {
            let d = Difference(logits[...], ref.values[(step * V)..<((step + 1) * V)])
            XCTAssertLessThanOrEqual(d.maxAbs, tolerance, "\(fixtureName) \(caseName) step \(step): \(d)")
            mine.append(Sampler_argmax(logits))
            logits = try model.forward([generated[step]], cache: cache, logits: .last)
        }
        XCTAssertEqual(mine, generated, "greedy continuation")
    }

    func testLlamaShort() throws { try checkPrompt("llama-tiny", "short") }
    func testLlamaLong() throws { try checkPrompt("llama-tiny", "long") }
    func testLlamaContinuation() throws { try checkIncremental("llama-tiny", "crossing") }
    func testLlamaChatContinuation() throws { try checkIncremental("llama-tiny", "chat") }
    func testVariantShort() throws { try checkPrompt("llama-tiny-variant", "short") }
    func testVariantLong() throws { try checkPrompt("llama-tiny-variant", "long") }
    func testVariantContinuation() throws { try checkIncremental("llama-tiny-variant", "chat") }

    /// The registry finds the architecture from config.json alone and builds the same model.
    func testRegistryBuildsTheFolder() throws {
        let f = try ReferenceFixture("llama-tiny")
        let built = try ModelRegistry.load(folder: f.directory, options: ModelLoadOptions(parallel: Parallel(threads: 2)))
        XCTAssertTrue(built.model is LlamaModel)
        XCTAssertEqual(built.eosTokenIDs, [f.json["eos_token_ids"] as? Int].compactMap { $0 })
        let ids = try f.ints("short", "input_ids")
        let a = try built.model.forward(ids, cache: built.model.makeCache(maxLength: nil), logits: .all)
        let direct = try load(f)
        XCTAssertEqual(a, try direct.forward(ids, cache: direct.makeCache(maxLength: nil), logits: .all))
    }

    /// The variant's description carries what its config asks for.
    func testVariantDescription() throws {
        let c = try LlamaConfig.load(directory: try ReferenceFixture("llama-tiny-variant").directory)
        let d = try LlamaModel.description(for: c)
        XCTAssertEqual(d, DecoderDescription(norm: .rmsNorm, activation: .geluTanh, qkv: .separate, gateUp: .separate,
                                             qkvBias: true, outputBias: true, mlpBias: true, tieWordEmbeddings: false))
        XCTAssertEqual(c.headDim, 24)
        XCTAssertEqual(c.numKeyValueHeads, 1)
    }
}
