import Foundation
import PhiKit
import PhiWeights
import XCTest
import PhiTestSupport

/// The GGUF model path (phi3 architecture as llama.cpp names it) and load-time quantization, on the tiny
/// golden model: a GGUF written from the same weights must give the same logits as the HF folder.
final class GGUFModelTests: XCTestCase {
    static let tiny = TestFixtures.model("phi4mini-tiny")

    /// Writes the tiny HF model as a llama.cpp-style phi3 GGUF (tensor names, hyperparameters, LongRoPE
    /// factor tensors, gpt2 tokenizer with the gpt-4o pre-tokenizer and token types).
    static func writeTinyGGUF(to url: URL, quantize: DType? = nil) throws {
        let store = try WeightStore(directory: tiny)
        let cfgJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: tiny.appendingPathComponent("config.json"))) as? [String: Any])
        let config = try Phi3Config.load(directory: tiny)
        var w = GGUFWriter()
        w.set("general.architecture", .string("phi3"))
        w.set("phi3.context_length", .uint32(UInt32(config.maxPositionEmbeddings)))
        w.set("phi3.rope.scaling.original_context_length", .uint32(UInt32(config.originalMaxPositionEmbeddings)))
        w.set("phi3.embedding_length", .uint32(UInt32(config.hiddenSize)))
        w.set("phi3.feed_forward_length", .uint32(UInt32(config.intermediateSize)))
        w.set("phi3.block_count", .uint32(UInt32(config.numHiddenLayers)))
        w.set("phi3.attention.head_count", .uint32(UInt32(config.numAttentionHeads)))
        w.set("phi3.attention.head_count_kv", .uint32(UInt32(config.numKeyValueHeads)))
        w.set("phi3.attention.layer_norm_rms_epsilon", .float32(config.rmsNormEps))
        w.set("phi3.rope.dimension_count", .uint32(UInt32(config.rotaryDim)))
        w.set("phi3.rope.freq_base", .float32(Float(config.ropeTheta)))
        w.set("phi3.rope.scaling.attn_factor", .float32(config.makeRotaryEmbedding().attentionFactor))
        w.set("phi3.attention.sliding_window", .uint32(UInt32(cfgJSON["sliding_window"] as? Int ?? 0)))
        // Tokenizer from tokenizer.json: byte-level token strings by id, merges, types.
        let tj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: tiny.appendingPathComponent("tokenizer.json"))) as? [String: Any])
        let model = try XCTUnwrap(tj["model"] as? [String: Any])
        let vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
        let added = try XCTUnwrap(tj["added_tokens"] as? [[String: Any]])
        var tokens = [String](repeating: "", count: config.vocabSize)
        var types = [GGUFValue](repeating: .int32(1), count: config.vocabSize)
        for (s, id) in vocab where id < tokens.count { tokens[id] = s }
        for a in added {
            guard let id = a["id"] as? Int, let content = a["content"] as? String, id < tokens.count else { continue }
            tokens[id] = content
            types[id] = .int32((a["special"] as? Bool) == true ? 3 : 4)
        }
        for id in tokens.indices where tokens[id].isEmpty { tokens[id] = "[PAD\(id)]"; types[id] = .int32(5) }
        let merges: [String] = (model["merges"] as? [[String]])?.map { $0.joined(separator: " ") } ?? (model["merges"] as? [String] ?? [])
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("gpt-4o"))
        w.set("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) }))
        w.set("tokenizer.ggml.token_type", .array(.int32, types))
        w.set("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))
        w.set("tokenizer.ggml.bos_token_id", .uint32(370))
        w.set("tokenizer.ggml.eos_token_id", .uint32(370))
        w.set("tokenizer.ggml.eot_token_id", .uint32(372))

        var tensors: [(String, Tensor)] = []
        if let q = quantize {   // a quantized head, as llama-quantize writes output.weight
            let head = try WeightQuantizer(type: q).transform("lm_head.weight", try store.tensor("model.embed_tokens.weight"))
            tensors.append(("output.weight", head))
        }
        for name in store.names {
            guard let g = CheckpointNames.gguf(fromHF: name) else { continue }
            var t = try store.tensor(name)
            if let q = quantize, t.shape.count == 2, name.hasSuffix("_proj.weight") {
                t = try WeightQuantizer(type: q).transform(name, t)
            }
            tensors.append((g, t))
        }
        let rope = config.makeRotaryEmbedding()
        guard case .longRoPE(let short, let long, _) = rope.kind else { throw XCTSkip("fixture is not LongRoPE") }
        tensors.append(("rope_factors_long.weight", FloatBuffer(long).tensor(shape: [long.count])))
        tensors.append(("rope_factors_short.weight", FloatBuffer(short).tensor(shape: [short.count])))
        for (n, t) in tensors { w.addTensor(GGUFWriter.TensorLayout(name: n, dtype: t.dtype, shape: t.shape)) }
        let byName = Dictionary(uniqueKeysWithValues: tensors)
        try w.write(to: url) { layout in
            guard let t = byName[layout.name] else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: t.data, count: t.byteCount))
        }
    }

    func temp(_ name: String) -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)") }

    func logits(_ loaded: LoadedModel, _ ids: [Int]) throws -> [Float] {
        try loaded.model.forward(ids, cache: loaded.model.makeCache(maxLength: nil), logits: .all)
    }

    func testPhi3GGUFMatchesTheHFFolder() throws {
        let url = temp("tiny.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeTinyGGUF(to: url)
        let gguf = try ModelLoader.load(path: url.path, threads: 2)
        let hf = try ModelLoader.load(path: Self.tiny.path, threads: 2)
        // Same tokenizer, same chat format, same stop tokens.
        let text = "<|user|>What is the weather like in Paris today?<|end|><|assistant|>"
        XCTAssertEqual(gguf.tokenizer.encode(text, parseSpecial: true), hf.tokenizer.encode(text, parseSpecial: true))
        let chat = [ChatMessage(role: "user", content: "Hi there", tools: nil)]
        XCTAssertEqual(gguf.chatFormat.encode(chat), hf.chatFormat.encode(chat))
        XCTAssertTrue(gguf.eosTokenIDs.isSuperset(of: hf.eosTokenIDs), "\(gguf.eosTokenIDs) vs \(hf.eosTokenIDs)")
        // Same logits in both LongRoPE regimes (24 tokens > original 16).
        let ids = Array(hf.tokenizer.encode("Once upon a time, a small robot lived in a quiet town by the sea.").prefix(24))
        XCTAssertGreaterThan(ids.count, 16)
        let a = try logits(gguf, ids), b = try logits(hf, ids)
        XCTAssertEqual(a.count, b.count)
        XCTAssertTrue(a == b, "max diff \(zip(a, b).map { abs($0 - $1) }.max() ?? -1)")
    }

    func testQuantizedGGUFAndLoadTimeQuantizationAgree() throws {
        let url = temp("tiny-q8.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeTinyGGUF(to: url, quantize: .q8_0)
        let file = try GGUFLoaded(url)
        let atLoad = try ModelLoader.load(path: Self.tiny.path, threads: 2, quantize: .q8_0)
        let ids = [54, 345, 83, 291, 262, 348, 344, 286, 347, 295, 30]
        let a = try logits(file.loaded, ids), b = try logits(atLoad, ids)
        XCTAssertEqual(a.count, b.count)
        // Same quantizer and kernels: the same numbers.
        XCTAssertTrue(a == b, "max diff \(zip(a, b).map { abs($0 - $1) }.max() ?? -1)")
    }

    /// Quantized GGUF weights are repacked in the background after loading; until then the GGML rows serve.
    /// The switch must change no output: logits before (no weight repacked) and after (all repacked) are equal.
    func testBackgroundRepackingChangesNoOutput() throws {
        let url = temp("tiny-q4.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeTinyGGUF(to: url, quantize: .q4_0)
        let file = try GGUFFile(url: url)
        let repacker = WeightRepacker(parallel: Parallel(threads: 2))
        let model = try ModelRegistry.load(gguf: file, options: ModelLoadOptions(parallel: Parallel(threads: 2), repacker: repacker))
        XCTAssertGreaterThan(repacker.remaining, 0, "the quantized matrices wait for the background repacker")
        let ids = [54, 345, 83, 291, 262, 348, 344, 286, 347, 295, 30]
        let before = try model.forward(ids, cache: model.makeCache(maxLength: nil), logits: .all)
        repacker.start()
        repacker.wait()
        XCTAssertEqual(repacker.remaining, 0)
        let after = try model.forward(ids, cache: model.makeCache(maxLength: nil), logits: .all)
        XCTAssertEqual(before.count, after.count)
        XCTAssertTrue(before == after, "max diff \(zip(before, after).map { abs($0 - $1) }.max() ?? -1)")
        // ModelLoader starts the repacker itself; waiting leaves nothing behind.
        let loaded = try ModelLoader.load(path: url.path, threads: 2)
        loaded.waitForWeights()
        XCTAssertEqual(loaded.repacker?.remaining ?? 0, 0)
        XCTAssertNotNil(loaded.repacker)
        XCTAssertEqual(try logits(loaded, ids), after)
        // Cancelled before it starts, the repacker stops at once and the model keeps working from its GGML rows.
        let cancelled = WeightRepacker()
        let m2 = try ModelRegistry.load(gguf: file, options: ModelLoadOptions(parallel: Parallel(threads: 2), repacker: cancelled))
        let pending = cancelled.remaining
        cancelled.cancel()
        cancelled.wait()
        XCTAssertEqual(cancelled.remaining, pending)
        XCTAssertEqual(try m2.forward(ids, cache: m2.makeCache(maxLength: nil), logits: .all), after)
    }

    func testLoadTimeQuantizationStaysCloseToFloat() throws {
        let ids = [54, 345, 83, 291, 262, 348, 344, 286, 347, 295, 30]
        let exact = try logits(try ModelLoader.load(path: Self.tiny.path, threads: 2), ids)
        // Bounds from simulating the same weight quantization in transformers (gguf-py quantize → dequantize,
        // f32 activations) on this tiny random model: Q8_0 nmse 5.2e-4 (max-abs 0.10), Q4_0 nmse 0.13
        // (max-abs 1.49). PhiKit also quantizes activations to 8 bits, so it may add a little.
        for (q, bound, nmseBound) in [(LoadQuantization.q8_0, Float(0.3), 3e-3), (.q4_0, 3, 0.3)] {
            let got = try logits(try ModelLoader.load(path: Self.tiny.path, threads: 2, quantize: q), ids)
            var worst: Float = 0, num = 0.0, den = 0.0
            for (x, y) in zip(got, exact) {
                worst = max(worst, abs(x - y)); num += Double((x - y) * (x - y)); den += Double(y * y)
            }
            print("load-time \(q): max-abs \(worst), nmse \(num / den)")
            XCTAssertLessThan(worst, bound, "\(q)")
            XCTAssertLessThan(num / den, nmseBound, "\(q)")
            XCTAssertGreaterThan(worst, 0, "\(q) must actually quantize")
        }
    }

    /// Weights that are already quantized (a GGUF file) are requantized from their dequantized values, kept
    /// when already in the target type, and dequantized by `.f32`.
    func testRequantizeAndDequantizeQuantizedWeights() throws {
        var rng = SystemRandomNumberGenerator()
        let values = (0..<(8 * 64)).map { _ in Float.random(in: -1...1, using: &rng) }
        let dense = FloatBuffer(values).tensor(shape: [8, 64])
        let q8 = try WeightQuantizer(type: .q8_0).transform("w", dense)
        XCTAssertEqual(q8.dtype, .q8_0)
        XCTAssertEqual(try WeightQuantizer(type: .q8_0).transform("w", q8).data, q8.data, "same type: kept")

        let f = try WeightQuantizer(type: .f32).transform("w", q8)
        XCTAssertEqual(f.dtype, .f32)
        XCTAssertEqual(f.shape, [8, 64])
        let dequantized = q8.toFloatArray()
        XCTAssertEqual(f.toFloatArray(), dequantized)
        XCTAssertNotEqual(dequantized, values, "Q8_0 is lossy")

        let q4 = try WeightQuantizer(type: .q4_0).transform("w", q8)
        XCTAssertEqual(q4.dtype, .q4_0)
        let direct = try WeightQuantizer(type: .q4_0).transform("w", FloatBuffer(dequantized).tensor(shape: [8, 64]))
        XCTAssertEqual(Data(bytes: q4.data, count: q4.byteCount), Data(bytes: direct.data, count: direct.byteCount))
        XCTAssertEqual(try WeightQuantizer(type: .f32).transform("w", dense).data, dense.data, "f32 stays")
    }

    /// `--quantize` on a GGUF input: f32 and q4_0 both change what a Q8_0 file computes; q8_0 keeps it.
    func testLoadTimeQuantizationOfAGGUF() throws {
        let url = temp("tiny-q8.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeTinyGGUF(to: url, quantize: .q8_0)
        let ids = [54, 345, 83, 291, 262, 348, 344, 286, 347, 295, 30]
        let stored = try logits(try ModelLoader.load(path: url.path, threads: 2), ids)
        let same = try logits(try ModelLoader.load(path: url.path, threads: 2, quantize: .q8_0), ids)
        XCTAssertEqual(stored, same)
        let f32 = try logits(try ModelLoader.load(path: url.path, threads: 2, quantize: .f32), ids)
        let q4 = try logits(try ModelLoader.load(path: url.path, threads: 2, quantize: .q4_0), ids)
        func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? -1 }
        XCTAssertGreaterThan(maxDiff(f32, stored), 0, "f32 must dequantize (no 8-bit activations)")
        XCTAssertLessThan(maxDiff(f32, stored), 0.3)
        XCTAssertGreaterThan(maxDiff(q4, f32), maxDiff(stored, f32), "Q4_0 is further from f32 than Q8_0")
    }

    /// A helper so the GGUF-loaded model and its file live together.
    struct GGUFLoaded {
        let loaded: LoadedModel
        init(_ url: URL) throws { loaded = try ModelLoader.load(path: url.path, threads: 2) }
    }
}
