import Foundation
@testable import PhiModels
import XCTest

/// The published config.json files of the Phi family (Fixtures/configs, provenance in its README) decode into the
/// right configs, and the rules that bit users are pinned: a number is never a boolean, nor a boolean a number.
final class ConfigFixtureTests: XCTestCase {
    private func fixture(_ name: String) throws -> Data {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("fixtures missing from the test bundle")
        }
        return try Data(contentsOf: root.appendingPathComponent("configs/\(name).config.json"))
    }

    private func reason(_ json: String) -> String {
        do {
            _ = try Phi3Config.parse(Data(json.utf8), file: "c.json")
            return "(accepted)"
        } catch ModelError.malformedConfig(let file, let reason) {
            XCTAssertEqual(file, "c.json")
            return reason
        } catch {
            return "\(error)"
        }
    }

    func testPhi3Mini4kInstruct() throws {
        let c = try Phi3Config.parse(try fixture("phi-3-mini-4k-instruct"))
        XCTAssertEqual(c.bosTokenId, 1, "the value Foundation on Linux read as `true`")
        XCTAssertEqual(c.eosTokenIds, [32000])
        XCTAssertEqual(c.hiddenSize, 3072)
        XCTAssertEqual(c.numAttentionHeads, 32)
        XCTAssertEqual(c.numKeyValueHeads, 32)
        XCTAssertEqual(c.headDim, 96)
        XCTAssertEqual(c.numHiddenLayers, 32)
        XCTAssertEqual(c.vocabSize, 32064)
        XCTAssertEqual(c.maxPositionEmbeddings, 4096)
        XCTAssertEqual(c.slidingWindow, 2047)
        XCTAssertEqual(c.ropeType, "default")
        XCTAssertNil(c.ropeFactorsShort)
        XCTAssertEqual(c.rotaryDim, 96)
        XCTAssertEqual(c.rmsNormEps, Float(1e-5))
        XCTAssertFalse(c.tieWordEmbeddings)
    }

    func testPhi35MiniInstruct() throws {
        let c = try Phi3Config.parse(try fixture("phi-3.5-mini-instruct"))
        XCTAssertEqual(c.bosTokenId, 1)
        XCTAssertEqual(c.eosTokenIds, [32000])
        XCTAssertEqual(c.hiddenSize, 3072)
        XCTAssertEqual(c.numAttentionHeads, 32)
        XCTAssertEqual(c.ropeType, "longrope")
        XCTAssertEqual(c.ropeFactorsShort?.count, 48)
        XCTAssertEqual(c.ropeFactorsLong?.count, 48)
        XCTAssertEqual(c.ropeFactorsLong?.first, Float(1.0800000429153442))
        XCTAssertEqual(c.ropeFactorsLong?.last, Float(64.83999633789062))
        XCTAssertEqual(c.ropeFactorsShort?.first, 1)
        XCTAssertEqual(c.maxPositionEmbeddings, 131072)
        XCTAssertEqual(c.originalMaxPositionEmbeddings, 4096)
        XCTAssertEqual(c.partialRotaryFactor, 1.0)
        XCTAssertEqual(c.slidingWindow, 262144)
    }

    func testPhi4MiniInstruct() throws {
        let c = try Phi3Config.parse(try fixture("phi-4-mini-instruct"))
        XCTAssertEqual(c.hiddenSize, 3072)
        XCTAssertEqual(c.numAttentionHeads, 24)
        XCTAssertEqual(c.numKeyValueHeads, 8)
        XCTAssertEqual(c.headDim, 128)
        XCTAssertEqual(c.partialRotaryFactor, 0.75)
        XCTAssertEqual(c.rotaryDim, 96)
        XCTAssertEqual(c.vocabSize, 200064)
        XCTAssertEqual(c.bosTokenId, 199999)
        XCTAssertEqual(c.eosTokenIds, [199999])
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.ropeType, "longrope")
        XCTAssertEqual(c.ropeFactorsShort, [Float](repeating: 1, count: 48))
        XCTAssertEqual(c.ropeFactorsLong?.count, 48)
        XCTAssertEqual(c.ropeFactorsLong?.first, 1, "written `1` (an integer) in a float list")
        XCTAssertEqual(c.ropeFactorsLong?.last, Float(47.77))
        XCTAssertEqual(c.maxPositionEmbeddings, 131072)
    }

    func testPhi4MultimodalInstruct() throws {
        let mm = try Phi4MMConfig.parse(try fixture("phi-4-multimodal-instruct"))
        XCTAssertEqual(mm.layout, .original)
        let mini = try Phi3Config.parse(try fixture("phi-4-mini-instruct"))
        var language = mm.language
        XCTAssertEqual(language.modelType, "phi4mm")
        language.modelType = mini.modelType
        XCTAssertEqual(language, mini, "the LM part is Phi-4-mini's")
        XCTAssertEqual(mm.audio.numBlocks, 24)
        XCTAssertEqual(mm.audio.attentionDim, 1024)
        XCTAssertEqual(mm.audio.attentionHeads, 16)
        XCTAssertEqual(mm.audio.linearUnits, 1536)
        XCTAssertEqual(mm.audio.convChannels, 1024)
        XCTAssertEqual(mm.audio.biasMaxDistance, 500)
        XCTAssertEqual(mm.visionLoRA, LoRAConfig(rank: 256, alpha: 512))
        XCTAssertEqual(mm.speechLoRA, LoRAConfig(rank: 320, alpha: 640))
        XCTAssertEqual(mm.speechLoRA?.scale, 2)
        XCTAssertEqual(mm.vision, SiglipConfig())
        XCTAssertEqual(mm.imageTokenID, 200010)
        XCTAssertEqual(mm.audioTokenID, 200011)
    }

    /// The bug: on Linux, JSONSerialization's NSNumber for 0 or 1 also casts to Bool, and the old reader refused it.
    func testNumbersAndBooleansNeverMix() throws {
        let base = #""model_type": "phi3", "vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1"#
        let c = try Phi3Config.parse(Data(#"{\#(base), "bos_token_id": 1, "eos_token_id": [0, 1], "partial_rotary_factor": 1.0, "sliding_window": 0}"#.utf8))
        XCTAssertEqual(c.bosTokenId, 1)
        XCTAssertEqual(c.eosTokenIds, [0, 1])
        XCTAssertEqual(c.partialRotaryFactor, 1.0)
        XCTAssertEqual(c.slidingWindow, 0)
        // Integer fields take an integral float (Python sometimes writes one), nothing else.
        XCTAssertEqual(try Phi3Config.parse(Data(#"{\#(base), "bos_token_id": 1.0}"#.utf8)).bosTokenId, 1)
        XCTAssertEqual(reason(#"{\#(base), "bos_token_id": true}"#), "'bos_token_id': expected an integer, found true")
        XCTAssertEqual(reason(#"{\#(base), "bos_token_id": 1.5}"#), "'bos_token_id': 1.5 is not an integer")
        XCTAssertEqual(reason(#"{\#(base), "tie_word_embeddings": 1}"#), "'tie_word_embeddings': expected true or false, found 1")
        XCTAssertEqual(reason(#"{\#(base), "partial_rotary_factor": false}"#), "'partial_rotary_factor': expected a number, found false")
        XCTAssertEqual(reason(#"{\#(base), "rope_theta": 1e400}"#), "'rope_theta': 1e400 is out of range for a 64-bit float")
    }

    func testErrorsNameTheField() {
        let base = #""model_type": "phi3", "vocab_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1"#
        XCTAssertEqual(reason("{\(base)}"), "missing 'hidden_size'")
        XCTAssertEqual(reason(#"{\#(base), "hidden_size": 0}"#), "'hidden_size': must be positive, got 0")
        XCTAssertEqual(reason(#"{\#(base), "hidden_size": 8, "eos_token_id": [1, "2"]}"#), "'eos_token_id[1]': expected an integer, found \"2\"")
        XCTAssertEqual(reason(#"{\#(base), "hidden_size": 8, "rope_scaling": {"type": "longrope", "short_factor": [1], "long_factor": [1, "x"]}}"#),
                       "'rope_scaling.long_factor[1]': expected a number, found \"x\"")
        XCTAssertEqual(reason(#"{\#(base), "hidden_size": 8, "rope_scaling": {"type": "longrope", "short_factor": [1]}}"#),
                       "'rope_scaling': longrope needs short_factor and long_factor lists")
        XCTAssertTrue(reason(#"{\#(base), "hidden_size": 8, "hidden_size": 9}"#).hasPrefix("not valid JSON: duplicate key \"hidden_size\" at byte"))
        XCTAssertTrue(reason(#"{\#(base), "hidden_size": 8"#).hasPrefix("not valid JSON: unterminated object at byte"))
        XCTAssertEqual(reason(#"{"model_type": "llama"}"#), "\(ModelError.unsupportedArchitecture("llama"))")
    }

    func testLoRAAdapterConfig() throws {
        let peft = #"{"r": 320, "lora_alpha": 640.0, "target_modules": ["qkv_proj"], "use_dora": false}"#
        XCTAssertEqual(try decodeConfig(LoRAConfig.self, from: Data(peft.utf8), file: "a.json"), LoRAConfig(rank: 320, alpha: 640))
        XCTAssertEqual(try decodeConfig(LoRAConfig.self, from: Data(#"{"r": 8}"#.utf8), file: "a.json").alpha, 8)
        XCTAssertThrowsError(try decodeConfig(LoRAConfig.self, from: Data(#"{"r": 0}"#.utf8), file: "a.json")) {
            XCTAssertEqual("\($0)", "a.json: 'r': must be positive, got 0")
        }
    }
}
