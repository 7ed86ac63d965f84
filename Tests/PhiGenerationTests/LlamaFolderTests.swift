import Foundation
import PhiKit
import XCTest
import PhiTestSupport

/// A Hugging Face Llama folder (SmolLM2's layout: byte-level BPE with single digits, ChatML template) end to
/// end through ModelLoader: tokenizer, chat prompt, stop ids, and greedy generation equal transformers'.
final class LlamaFolderTests: XCTestCase {
    static let fixtures = TestFixtures.models

    func reference(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name).appendingPathComponent("reference.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testChatPromptAndGreedyContinuation() throws {
        for name in ["llama-tiny", "llama-tiny-variant"] {
            let ref = try reference(name)
            let chat = try XCTUnwrap((ref["cases"] as? [String: Any])?["chat"] as? [String: Any])
            let loaded = try ModelLoader.load(path: Self.fixtures.appendingPathComponent(name).path, threads: 2)
            XCTAssertTrue(loaded.model is LlamaModel)
            // The ChatML template renders the reference's messages to the reference's ids.
            let messages = try XCTUnwrap(chat["messages"] as? [[String: String]]).map {
                ChatMessage(role: $0["role"] ?? "", content: $0["content"] ?? "", tools: nil)
            }
            let prompt = loaded.chatFormat.encode(messages, addGenerationPrompt: true)
            XCTAssertEqual(prompt, try XCTUnwrap(chat["prompt_ids"] as? [Int]), name)
            XCTAssertEqual(loaded.eosTokenIDs, [try XCTUnwrap(ref["eos_token_ids"] as? Int)], name)
            // Greedy decoding from the prompt gives transformers' continuation.
            let want = try XCTUnwrap(chat["generated_ids"] as? [Int])
            let cache = loaded.model.makeCache(maxLength: nil)
            var logits = try loaded.model.forward(prompt, cache: cache, logits: .last)
            var got: [Int] = []
            for _ in want.indices {
                let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
                got.append(next)
                logits = try loaded.model.forward([next], cache: cache, logits: .last)
            }
            XCTAssertEqual(got, want, name)
            // The tokenizer cases agree with transformers' tokenizer.
            for tc in try XCTUnwrap(ref["tokenizer_cases"] as? [[String: Any]]) {
                let text = try XCTUnwrap(tc["text"] as? String)
                XCTAssertEqual(loaded.tokenizer.encode(text, parseSpecial: true), try XCTUnwrap(tc["ids"] as? [Int]), "\(name): \(text)")
            }
        }
    }
}
