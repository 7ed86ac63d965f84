import Foundation
import PhiKit
import XCTest
import PhiTestSupport

/// Phi-4-multimodal against transformers (original semantics) on the tiny random model written by
/// tools/fixtures/make_phi4mm_fixtures.py: both checkpoint layouts, image preprocessing → SigLIP → HD
/// transform → projector → splice, LoRA routing, logits and greedy continuations.
final class Phi4MMParityTests: XCTestCase {
    static let fixtures = TestFixtures.models
    static let original = fixtures.appendingPathComponent("phi4mm-tiny")
    static let native = fixtures.appendingPathComponent("phi4mm-tiny-native")
    static let media = fixtures.appendingPathComponent("phi4mm-media")

    /// f32 engine vs f32 reference: logits within 1e-4, projected image features within 1e-4.
    static let logitTolerance: Float = 1e-4
    static let featureTolerance: Float = 1e-4

    struct Reference {
        let cases: [String: [String: Any]]
        let tensors: WeightStore
        func tensor(_ key: String) throws -> [Float] { try tensors.tensor(key).toFloatArray() }
        func info(_ c: String) throws -> [String: Any] { try XCTUnwrap(cases[c], "no case \(c)") }
        func ints(_ c: String, _ k: String) throws -> [Int] { try XCTUnwrap(info(c)[k] as? [Int], "\(c).\(k)") }
    }

    static func reference() throws -> Reference {
        let data = try Data(contentsOf: original.appendingPathComponent("reference.json"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return Reference(cases: try XCTUnwrap(json["cases"] as? [String: [String: Any]]),
                         tensors: try WeightStore(files: [original.appendingPathComponent("reference.safetensors")]))
    }

    static func maxAbs(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    func load(_ dir: URL) throws -> LoadedModel { try ModelLoader.load(path: dir.path, threads: 2) }

    /// Logits of the last 4 positions (no cache) and the greedy continuation (KV cache).
    func check(_ model: LoadedModel, _ name: String, prepared: PreparedPrompt, ref: Reference, logitsKey: String? = nil,
               file: StaticString = #filePath, line: UInt = #line) throws {
        try Self.check(model, name, prepared: prepared, ref: ref, logitsKey: logitsKey, file: file, line: line)
    }

    static func check(_ model: LoadedModel, _ name: String, prepared: PreparedPrompt, ref: Reference, logitsKey: String? = nil,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(prepared.tokens, try ref.ints(name, "input_ids"), "\(name): expanded prompt ids", file: file, line: line)
        let m = model.model, V = m.vocabularySize
        let cache = m.makeCache(maxLength: prepared.tokens.count)
        let all = try m.forward(prepared.tokens, cache: cache, logits: .all, conditioning: prepared.conditioning)
        let last4 = all[((prepared.tokens.count - 4) * V)...]
        let expected = try ref.tensor(logitsKey ?? "\(name).logits_last4")
        let d = Self.maxAbs(last4, expected[...])
        XCTAssertLessThanOrEqual(d, Self.logitTolerance, "\(name): last-4 logits max-abs \(d)", file: file, line: line)
        let gen = model.makeGenerator()
        let r = try gen.generate(prompt: prepared.tokens, options: GenerationOptions(maxTokens: 8, stopTokenIDs: []),
                                 conditioning: prepared.conditioning)
        XCTAssertEqual(r.generatedTokens, try ref.ints(name, "generated_ids"), "\(name): greedy continuation", file: file, line: line)
    }

    func testTextOnlyIsTheBaseLanguageModelInBothLayouts() throws {
        let ref = try Self.reference()
        for dir in [Self.original, Self.native] {
            let model = try load(dir)
            XCTAssertNotNil(model.multimodal)
            let prompt = try model.prompt("What is the weather like in Paris today?")
            XCTAssertNil(prompt.conditioning, "text-only prompts use the base weights, no LoRA")
            try check(model, "text", prepared: prompt, ref: ref)
        }
    }

    func testOneImageWithVisionLoRA() throws {
        let ref = try Self.reference()
        let model = try load(Self.original)
        let mm = try XCTUnwrap(model.multimodal)
        let image = ImageSource.file(Self.media.appendingPathComponent("image_A.png"))
        let prepared = try model.prompt("<|image_1|>What is shown?", images: [image])
        XCTAssertEqual(prepared.imageTokenCounts, try ref.ints("image_A", "num_img_tokens"))
        XCTAssertTrue(prepared.conditioning?.adapter === mm.visionLoRA)

        // SigLIP hidden_states[-2] of the global crop, then the projected features of the whole image.
        let decoded = try ImageDecoder.decode(contentsOf: Self.media.appendingPathComponent("image_A.png"))
        let input = try Phi4MMImageProcessor().process(decoded)
        var hidden = [Float](repeating: 0, count: 1024 * mm.config.vision.hiddenSize)
        input.pixelValues.withUnsafeBufferPointer { px in
            input.patchMask.withUnsafeBufferPointer { mk in
                mm.vision.encoder.encode(pixels: px.baseAddress!, mask: mk.baseAddress!, into: &hidden)
            }
        }
        let dh = Self.maxAbs(hidden[...], try ref.tensor("image_A.vision.hidden_states_m2.crop0")[...])
        XCTAssertLessThanOrEqual(dh, Self.featureTolerance, "SigLIP crop 0 max-abs \(dh)")
        let features = try mm.vision.embed(input)
        let df = Self.maxAbs(features[...], try ref.tensor("image_A.image_features.0")[...])
        XCTAssertEqual(features.count, input.tokenCount * mm.hiddenSize)
        XCTAssertLessThanOrEqual(df, Self.featureTolerance, "projected image features max-abs \(df)")

        try check(model, "image_A", prepared: prepared, ref: ref)
        // The same prompt through the base LM (LoRA off) matches the reference without LoRA, and differs.
        let noLoRA = try Conditioning(adapter: nil, positions: prepared.conditioning!.positions,
                                      rows: prepared.conditioning!.rows, width: mm.hiddenSize)
        let V = mm.vocabularySize
        let base = try mm.forward(prepared.tokens, cache: mm.makeCache(maxLength: prepared.tokens.count), logits: .all,
                                  conditioning: noLoRA)
        let d = Self.maxAbs(base[((prepared.tokens.count - 4) * V)...], try ref.tensor("image_A.logits_last4_nolora")[...])
        XCTAssertLessThanOrEqual(d, Self.logitTolerance, "no-LoRA logits max-abs \(d)")
    }

    func testTwoImagesInOrderInTheNativeLayout() throws {
        let ref = try Self.reference()
        let model = try load(Self.native)
        let images = ["image_B.png", "image_C.jpg"].map { ImageSource.file(Self.media.appendingPathComponent($0)) }
        let prepared = try model.prompt("<|image_1|><|image_2|>Compare.", images: images)
        XCTAssertEqual(prepared.imageTokenCounts, try ref.ints("image_BC", "num_img_tokens"))
        try check(model, "image_BC", prepared: prepared, ref: ref)
        // Raw prompts take the same placeholders.
        let raw = try model.prompt("<|user|><|image_1|><|image_2|>Compare.<|end|><|assistant|>", raw: true,
                                    images: images)
        XCTAssertEqual(raw.tokens, prepared.tokens)
    }

    func testPlaceholderRulesAndErrors() throws {
        let model = try load(Self.original)
        let a = ImageSource.file(Self.media.appendingPathComponent("image_A.png"))
        // No placeholder in a chat prompt: the images go first.
        let implicit = try model.prompt("What is shown?", images: [a])
        let explicit = try model.prompt("<|image_1|>What is shown?", images: [a])
        XCTAssertEqual(implicit.tokens, explicit.tokens)
        // N is ignored: <|image_7|> is the first image.
        XCTAssertEqual(try model.prompt("<|image_7|>What is shown?", images: [a]).tokens, explicit.tokens)
        XCTAssertThrowsError(try model.prompt("<|image_1|><|image_2|>x", images: [a])) { e in
            XCTAssertTrue("\(e)".contains("2 image placeholder"), "\(e)")
        }
        XCTAssertThrowsError(try model.prompt("<|image_1|>x")) { e in
            XCTAssertTrue("\(e)".contains("0 image(s) were given"), "\(e)")
        }
        var limits = ImageLimits.default
        limits.maxImagesPerPrompt = 1
        XCTAssertThrowsError(try model.prompt("x", images: [a, a], limits: MediaLimits(image: limits)))
        limits = .default
        limits.maxPixels = 1000
        XCTAssertThrowsError(try model.prompt("x", images: [a], limits: MediaLimits(image: limits)))
        let bogus = ImageSource.data(Data("not an image".utf8))
        XCTAssertThrowsError(try model.prompt("x", images: [bogus]))
    }

    /// A native folder without its adapter folders loads (text works) but refuses media it cannot answer
    /// correctly; a stray or missing tensor is an error naming it.
    func testMissingAdaptersAndUnexpectedTensors() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("phi4mm-native-\(getpid())")
        try? FileManager.default.removeItem(at: tmp)
        try FileManager.default.copyItem(at: Self.native, to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        try FileManager.default.removeItem(at: tmp.appendingPathComponent("vision-lora"))
        let model = try load(tmp)
        XCTAssertNil(model.multimodal?.visionLoRA)
        XCTAssertNoThrow(try model.prompt("hi"))
        XCTAssertThrowsError(try model.prompt("x", images: [.file(Self.media.appendingPathComponent("image_A.png"))])) { e in
            XCTAssertTrue("\(e)".contains("vision LoRA"), "\(e)")
        }
        // An adapter file with an extra tensor is rejected by name.
        let adapter = tmp.appendingPathComponent("speech-lora/adapter_model.safetensors")
        let store = try WeightStore(files: [adapter])
        var items: [String: SafetensorsWriter.Item] = [:]
        for name in store.names {
            let t = try store.tensor(name)
            items[name] = .f32(shape: t.shape, values: t.toFloatArray())
        }
        items["model.layers.0.self_attn.qkv_proj.lora_C.weight"] = .f32(shape: [3], values: [1, 2, 3])
        try SafetensorsWriter.write(items, to: adapter)
        XCTAssertThrowsError(try load(tmp)) { e in XCTAssertTrue("\(e)".contains("lora_C"), "\(e)") }
    }

    func testTextModelsRejectImages() throws {
        let text = try ModelLoader.load(path: Self.fixtures.appendingPathComponent("phi4mini-tiny").path)
        let a = ImageSource.file(Self.media.appendingPathComponent("image_A.png"))
        XCTAssertThrowsError(try text.prompt("x", images: [a])) { e in
            XCTAssertTrue("\(e)".contains("does not take images"), "\(e)")
        }
    }
}
