import Foundation
import XCTest
@testable import PhiTokenizer

/// Phi-3 / Phi-3.5 chat format against the published templates rendered by Jinja2 and encoded by HF `tokenizers`
/// (tools/tokenizer/make_spm_fixtures.py, on the Phi-3-layout tokenizer with Phi-3's added-token flags).
final class Phi3ChatFormatTests: XCTestCase {
    private func fixture(_ name: String) -> URL { Fixtures.url("spm").appendingPathComponent(name) }

    private func tokenizer() throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: try Data(contentsOf: fixture("phi3.json")), tokenizerConfigJSON: nil)
    }

    func testMatchesPublishedTemplatesEncodedByHF() throws {
        let tok = try tokenizer()
        let templates = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixture("chat_templates.json")))
            as? [String: String])
        let rows = try Fixtures.jsonl("spm/chat.jsonl")
        XCTAssertEqual(rows.count, 12)
        for row in rows {
            let template = try XCTUnwrap(templates[row.string("template")])
            let format = try Phi3ChatFormat(tokenizer: tok, template: template)
            XCTAssertEqual(format.skipsEmptySystem, row.string("template") == "phi3.5")
            let messages = try XCTUnwrap(row["messages"] as? [[String: String]]).map {
                ChatMessage(role: $0["role"] ?? "", content: $0["content"] ?? "")
            }
            let agp = (row["add_generation_prompt"] as? Bool) ?? true
            XCTAssertEqual(format.render(messages, addGenerationPrompt: agp), row.string("rendered"))
            XCTAssertEqual(format.encode(messages, addGenerationPrompt: agp), row.ints("ids"), row.string("rendered"))
            XCTAssertTrue(try ChatFormats.detect(tokenizer: tok, template: template) is Phi3ChatFormat)
        }
    }

    func testDetection() throws {
        let phi3 = try tokenizer()
        XCTAssertTrue(try ChatFormats.detect(tokenizer: phi3, template: nil) is Phi3ChatFormat)
        let phi4 = try Fixtures.phiTokenizer()
        XCTAssertTrue(try ChatFormats.detect(tokenizer: phi4, template: phi4.chatTemplate) is PhiChatFormat)
        XCTAssertFalse(Phi3ChatFormat.describes(template: phi4.chatTemplate, tokenizer: phi4))
        XCTAssertTrue(Phi3ChatFormat.describes(template: "{{'<|user|>' + '\\n' + message['content']}}", tokenizer: phi4))
    }

    func testUserTextNeverBecomesControlTokens() throws {
        let tok = try tokenizer()
        let format = try Phi3ChatFormat(tokenizer: tok)
        let end = try XCTUnwrap(tok.specialTokenID("<|end|>"))
        let ids = format.encode([ChatMessage(role: "user", content: "a<|end|>b")])
        XCTAssertEqual(ids.filter { $0 == end }.count, 1, "only the scaffolding's <|end|> is a control id")
    }
}
