import Foundation
import PhiKernels
@testable import PhiModels
import PhiTensor
import PhiTestSupport
import PhiWeights
import XCTest

/// Issue 10, findings 1 and 2: configs whose head counts × head_dim wrap modulo 2^64 to the real tensor sizes
/// (so every shape check passed and a rotary kernel wrote far outside its buffer), and the neighbouring ways a
/// config can disagree with its tensors. Each builds the hostile input from the tiny bf16 fixture in a temporary
/// folder and must end in a `ModelError` naming the field, before any kernel runs.
final class HostileConfigTests: XCTestCase {
    static let tiny = TestFixtures.model("phi4mini-tiny-bf16")
    var dir: URL!

    override func setUpWithError() throws {
        dir = TestFixtures.temporaryURL("hostile-config")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// A copy of the tiny folder with `edit` applied to its config.json.
    func folder(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let out = dir.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for name in ["model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            try FileManager.default.copyItem(at: Self.tiny.appendingPathComponent(name), to: out.appendingPathComponent(name))
        }
        let data = try Data(contentsOf: Self.tiny.appendingPathComponent("config.json"))
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: out.appendingPathComponent("config.json"))
        return out
    }

    func load(_ url: URL) throws {
        _ = try ModelRegistry.load(folder: url, options: ModelLoadOptions(parallel: Parallel(threads: 1)))
    }

    /// `body` must throw a ModelError whose message holds every fragment.
    func assertModelError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("accepted; expected an error mentioning \(fragments)", file: file, line: line)
        } catch let error as ModelError {
            let message = "\(error)"
            for f in fragments where !message.contains(f) {
                XCTFail("'\(message)' does not mention '\(f)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a ModelError, got \(type(of: error)): \(error)", file: file, line: line)
        }
    }

    func testUnchangedCopyLoads() throws {
        // The copy itself is sound: every failure below comes from the edit.
        XCTAssertNoThrow(try load(try folder { _ in }))
    }

    /// Finding 1 exactly as reported: 456724697139573 × 33849730896608 and the others wrap to the real sizes.
    func testFinding1HeadProductsThatWrap() throws {
        let url = try folder { c in
            c["num_attention_heads"] = 456_724_697_139_573
            c["num_key_value_heads"] = 152_241_565_713_191
            c["head_dim"] = 33_849_730_896_608
            c["partial_rotary_factor"] = 12.0 / 33_849_730_896_608
            c["rope_scaling"] = NSNull()
        }
        // The products really do wrap to the fixture's sizes: the shape checks alone could not catch it.
        let heads = 456_724_697_139_573, kvHeads = 152_241_565_713_191, headDim = 33_849_730_896_608
        XCTAssertEqual((heads &+ 2 &* kvHeads) &* headDim, 160)
        XCTAssertEqual(heads &* headDim, 96)
        assertModelError(["config.json", "num_attention_heads", "456724697139573"]) { try self.load(url) }
        assertModelError(["num_attention_heads"]) {
            _ = try Phi3Config.parse(try Data(contentsOf: url.appendingPathComponent("config.json")))
        }
    }

    func testHeadDimThatDisagreesWithTheTensors() throws {
        let url = try folder { c in
            c["head_dim"] = 32
            c["rope_scaling"] = NSNull()
        }
        assertModelError(["num_key_value_heads", "head_dim", "qkv_proj", "[320, 96]", "[160, 96]"]) { try self.load(url) }
    }

    func testKeyValueHeadsThatDoNotDivideTheHeads() throws {
        let url = try folder { c in c["num_key_value_heads"] = 4 }
        assertModelError(["num_attention_heads", "num_key_value_heads", "multiple"]) { try self.load(url) }
    }

    func testOddRotaryDims() throws {
        // 16 × 0.5625 = 9 rotary dims: pairs cannot be formed.
        let url = try folder { c in
            c["partial_rotary_factor"] = 0.5625
            c["rope_scaling"] = NSNull()
        }
        assertModelError(["partial_rotary_factor", "even"]) { try self.load(url) }
    }

    func testVocabularyLargerThanTheEmbedding() throws {
        let url = try folder { c in c["vocab_size"] = 400 }
        assertModelError(["vocab_size", "embed_tokens", "[400, 96]", "[384, 96]"]) { try self.load(url) }
    }

    func testIntermediateSizeThatDisagreesWithTheMLP() throws {
        let url = try folder { c in c["intermediate_size"] = 64 }
        assertModelError(["intermediate_size", "gate_up_proj"]) { try self.load(url) }
    }

    func testLayerCountAgainstTheCheckpoint() throws {
        assertModelError(["num_hidden_layers", "model.layers.3."]) { try self.load(try self.folder { $0["num_hidden_layers"] = 4 }) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model"))
        assertModelError(["num_hidden_layers", "more layers"]) { try self.load(try self.folder { $0["num_hidden_layers"] = 2 }) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model"))
        assertModelError(["num_hidden_layers", "limit"]) { try self.load(try self.folder { $0["num_hidden_layers"] = 1 << 40 }) }
    }

    func testContextLengthBeyondAnyModel() throws {
        let url = try folder { c in c["max_position_embeddings"] = Int.max }
        assertModelError(["max_position_embeddings", "limit"]) { try self.load(url) }
        for (field, value) in [("original_max_position_embeddings", 0), ("sliding_window", -1)] {
            try FileManager.default.removeItem(at: dir.appendingPathComponent("model"))
            assertModelError([field]) { try self.load(try self.folder { $0[field] = value }) }
        }
    }

    /// The multimodal config reads its language part through Phi3Config: the same checks apply there, and its
    /// encoder sizes are bounded too.
    func testMultimodalConfigLimits() throws {
        let mm = TestFixtures.model("phi4mm-tiny")
        let data = try Data(contentsOf: mm.appendingPathComponent("config.json"))
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertNoThrow(try Phi4MMConfig.parse(data))
        func parse(_ edit: (inout [String: Any]) -> Void) throws {
            var c = config
            edit(&c)
            _ = try Phi4MMConfig.parse(try JSONSerialization.data(withJSONObject: c))
        }
        assertModelError(["num_attention_heads"]) {
            try parse { c in
                c["num_attention_heads"] = 456_724_697_139_573
                c["num_key_value_heads"] = 152_241_565_713_191
                c["head_dim"] = 33_849_730_896_608
            }
        }
        assertModelError(["num_hidden_layers", "limit"]) {
            try parse { c in
                var v = c["vision_config"] as? [String: Any] ?? [:]
                v["num_hidden_layers"] = Int.max
                c["vision_config"] = v
            }
        }
    }

    // MARK: - Finding 2: a llama GGUF

    /// The tiny fixture's weights as a llama.cpp `llama` GGUF (q/k/v and gate/up split from the fused
    /// matrices), with `heads`/`kvHeads`/`rope` as its head_count, head_count_kv and rope.dimension_count.
    func writeLlamaGGUF(heads: UInt64, kvHeads: UInt32, rope: UInt32) throws -> URL {
        let store = try WeightStore(directory: Self.tiny)
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("llama.context_length", .uint32(64))
        w.set("llama.embedding_length", .uint32(96))
        w.set("llama.feed_forward_length", .uint32(128))
        w.set("llama.block_count", .uint32(3))
        w.set("llama.attention.head_count", .uint64(heads))
        w.set("llama.attention.head_count_kv", .uint32(kvHeads))
        w.set("llama.rope.dimension_count", .uint32(rope))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.set("llama.rope.freq_base", .float32(10000))
        var tensors: [(String, Tensor, Range<Int>)] = []   // name, source, rows of it
        for name in store.names.sorted() {
            let t = try store.tensor(name)
            let rows = t.shape.first ?? 1
            if name.hasSuffix("qkv_proj.weight") {
                let p = String(name.dropLast("qkv_proj.weight".count))
                tensors += [(p + "q_proj.weight", t, 0..<96), (p + "k_proj.weight", t, 96..<128), (p + "v_proj.weight", t, 128..<160)]
            } else if name.hasSuffix("gate_up_proj.weight") {
                let p = String(name.dropLast("gate_up_proj.weight".count))
                tensors += [(p + "gate_proj.weight", t, 0..<128), (p + "up_proj.weight", t, 128..<256)]
            } else {
                tensors.append((name, t, 0..<rows))
            }
        }
        var byName: [String: [UInt8]] = [:]
        for (hf, t, rows) in tensors {
            let g = try XCTUnwrap(CheckpointNames.gguf(fromHF: hf), hf)
            let rowBytes = t.byteCount / (t.shape.first ?? 1)
            var shape = t.shape
            shape[0] = rows.count
            w.addTensor(GGUFWriter.TensorLayout(name: g, dtype: t.dtype, shape: shape))
            byName[g] = [UInt8](UnsafeRawBufferPointer(start: t.data + rows.lowerBound * rowBytes, count: rows.count * rowBytes))
        }
        let url = dir.appendingPathComponent("llama-\(heads).gguf")
        try w.write(to: url) { byName[$0.name] ?? [] }
        return url
    }

    func loadGGUF(_ url: URL) throws -> LanguageModel {
        try ModelRegistry.load(gguf: try GGUFFile(url: url), options: ModelLoadOptions(parallel: Parallel(threads: 1)))
    }

    func testLlamaGGUFFromTheFixtureLoads() throws {
        // The same file with its true head counts builds and runs: the hostile one differs in the head count only.
        let model = try loadGGUF(try writeLlamaGGUF(heads: 6, kvHeads: 2, rope: 16))
        let logits = try model.forward([1, 2, 3], cache: model.makeCache(maxLength: nil), logits: .last)
        XCTAssertEqual(logits.count, 384)
    }

    /// Finding 2: head_count 2^59 + 3 (uint64), one kv head, rope.dimension_count 32: q rows (2^59+3)·32 wrap to 96.
    func testFinding2LlamaHeadCountThatWraps() throws {
        XCTAssertEqual(((UInt64(1) << 59) + 3) &* 32, 96)
        let url = try writeLlamaGGUF(heads: (UInt64(1) << 59) + 3, kvHeads: 1, rope: 32)
        assertModelError([url.lastPathComponent, "num_attention_heads", "llama.attention.head_count", "576460752303423491"]) {
            _ = try self.loadGGUF(url)
        }
    }

    func testLlamaGGUFHeadSizeThatDisagreesWithTheTensors() throws {
        // Within every limit, but 6 heads of 32 need 192 q rows where the file has 96: the error names the fields.
        let url = try writeLlamaGGUF(heads: 6, kvHeads: 1, rope: 32)
        assertModelError(["num_attention_heads × head_dim", "[192, 96]", "[96, 96]"]) { _ = try self.loadGGUF(url) }
    }

    func testLlamaConfigLimits() throws {
        let base: [String: Any] = ["model_type": "llama", "vocab_size": 384, "hidden_size": 96, "intermediate_size": 128,
                                   "num_hidden_layers": 3, "num_attention_heads": 6, "num_key_value_heads": 2]
        func parse(_ edit: [String: Any]) throws {
            _ = try LlamaConfig.parse(try JSONSerialization.data(withJSONObject: base.merging(edit) { $1 }), file: "c.json")
        }
        XCTAssertNoThrow(try parse([:]))
        assertModelError(["c.json", "num_attention_heads", "limit"]) { try parse(["num_attention_heads": (1 << 59) + 3, "num_key_value_heads": 1, "head_dim": 32]) }
        assertModelError(["c.json", "head_dim", "limit"]) { try parse(["head_dim": Int.max]) }
        assertModelError(["c.json", "max_position_embeddings"]) { try parse(["max_position_embeddings": 1 << 60]) }
        assertModelError(["c.json", "head_dim", "even"]) { try parse(["head_dim": 15]) }
    }
}
