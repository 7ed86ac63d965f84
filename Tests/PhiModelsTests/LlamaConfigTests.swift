import Foundation
import PhiModels
import XCTest

/// LlamaConfig decoding: the published SmolLM2 config, transformers 5's rope_parameters, and clear errors.
final class LlamaConfigTests: XCTestCase {
    /// HuggingFaceTB/SmolLM2-135M-Instruct's config.json (transformers 4.42 layout).
    static let smolLM2 = """
    {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 1,
     "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 576, "initializer_range": 0.041666666666666664,
     "intermediate_size": 1536, "is_llama_config": true, "max_position_embeddings": 8192, "mlp_bias": false,
     "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3,
     "pad_token_id": 2, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_interleaved": false, "rope_scaling": null,
     "rope_theta": 100000, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.42.3",
     "use_cache": true, "vocab_size": 49152}
    """

    func parse(_ s: String) throws -> LlamaConfig { try LlamaConfig.parse(Data(s.utf8)) }

    func testSmolLM2Config() throws {
        let c = try parse(Self.smolLM2)
        var expected = LlamaConfig(vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30,
                                   numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64, rmsNormEps: 1e-5,
                                   ropeTheta: 100000, maxPositionEmbeddings: 8192, tieWordEmbeddings: true,
                                   ropeInterleaved: false)
        expected.bosTokenId = 1
        expected.eosTokenIds = [2]
        XCTAssertEqual(c, expected)
        XCTAssertEqual(ModelRegistry.architecture(modelType: "llama")?.name, "llama")
    }

    func testTransformers5RopeParametersAndEOSList() throws {
        let s = Self.smolLM2.replacingOccurrences(of: "\"rope_theta\": 100000,", with: "")
            .replacingOccurrences(of: "\"rope_scaling\": null", with: "\"rope_parameters\": {\"rope_theta\": 5e5, \"rope_type\": \"default\"}")
            .replacingOccurrences(of: "\"eos_token_id\": 2", with: "\"eos_token_id\": [2, 0]")
        let c = try parse(s)
        XCTAssertEqual(c.ropeTheta, 5e5)
        XCTAssertEqual(c.eosTokenIds, [2, 0])
    }

    func testErrorsNameTheKey() {
        func reason(_ s: String) -> String {
            do { _ = try parse(s); return "parsed" } catch { return "\(error)" }
        }
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"hidden_size\": 576,", with: "")).contains("hidden_size"))
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"num_hidden_layers\": 30", with: "\"num_hidden_layers\": \"30\"")).contains("num_hidden_layers"))
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"tie_word_embeddings\": true", with: "\"tie_word_embeddings\": 1")).contains("tie_word_embeddings"))
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"num_key_value_heads\": 3", with: "\"num_key_value_heads\": 4")).contains("kv heads"))
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"hidden_act\": \"silu\"", with: "\"hidden_act\": \"relu2\"")).contains("relu2"))
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"rope_scaling\": null", with: "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}")).contains("llama3"))
        XCTAssertTrue(reason("{\"model_type\": \"llama\",").contains("JSON"))
        XCTAssertTrue(reason(Self.smolLM2.replacingOccurrences(of: "\"model_type\": \"llama\"", with: "\"model_type\": \"mistral\"")).contains("mistral"))
    }
}
