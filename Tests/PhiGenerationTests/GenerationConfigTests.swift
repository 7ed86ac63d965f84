import Foundation
@testable import PhiGeneration
import PhiKit
import XCTest

/// generation_config.json's eos_token_id through the strict decoder: a number or a list, 0/1 never booleans.
final class GenerationConfigTests: XCTestCase {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("PhiModelsTests/Fixtures/phi4mini-tiny")

    func testEOSTokenIDs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gencfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenizer = try Tokenizer(directory: Self.tiny)
        func eos(_ json: String) throws -> Set<Int> {
            try Data(json.utf8).write(to: dir.appendingPathComponent("generation_config.json"))
            return try ModelLoader.eosTokenIDs(directory: dir, fallback: [7], tokenizer: tokenizer)
        }
        // Phi-4-mini-instruct's published generation_config.json.
        XCTAssertEqual(try eos(#"{"_from_model_config": true, "bos_token_id": 199999, "eos_token_id": [200020, 199999], "pad_token_id": 199999, "transformers_version": "4.45.0"}"#),
                       [200020, 199999])
        XCTAssertEqual(try eos(#"{"bos_token_id": 1, "eos_token_id": 1}"#), [1])
        XCTAssertEqual(try eos(#"{"eos_token_id": null}"#), [7], "absent or null: the config's ids")
        XCTAssertEqual(try eos("{}"), [7])
        XCTAssertThrowsError(try eos(#"{"eos_token_id": true}"#)) {
            XCTAssertTrue("\($0)".contains("'eos_token_id': expected an integer, found true"), "\($0)")
        }
        XCTAssertThrowsError(try eos(#"{"eos_token_id": [1, 1.5]}"#)) {
            XCTAssertTrue("\($0)".contains("'eos_token_id[1]': 1.5 is not an integer"), "\($0)")
        }
    }
}
