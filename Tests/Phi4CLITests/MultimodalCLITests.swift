import Foundation
import PhiWeights
import XCTest

/// `phi4 run/logits --image` and `phi4 transcribe` on the tiny Phi-4-multimodal fixture, as users and
/// external checks call them.
final class MultimodalCLITests: XCTestCase {
    var model: String { CLITests.fixtures.appendingPathComponent("phi4mm-tiny").path }
    var media: URL { CLITests.fixtures.appendingPathComponent("phi4mm-media") }

    func reference() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: CLITests.fixtures.appendingPathComponent("phi4mm-tiny/reference.json"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(json["cases"] as? [String: [String: Any]])
    }

    func testRunWithImageCountsImageTokensAndMatchesReference() throws {
        let ref = try XCTUnwrap(try reference()["image_A"])
        let out = try CLITests.run(["run", "--model", model, "--image", media.appendingPathComponent("image_A.png").path,
                                "--max-tokens", "8", "--json", "What is shown?"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(j["prompt_tokens"] as? [Int], ref["input_ids"] as? [Int])
        XCTAssertEqual(j["generated_tokens"] as? [Int], ref["generated_ids"] as? [Int])
    }

    func testTwoImagesAndLogits() throws {
        let ref = try XCTUnwrap(try reference()["image_BC"])
        let npy = FileManager.default.temporaryDirectory.appendingPathComponent("mm-logits-\(getpid()).npy")
        defer { try? FileManager.default.removeItem(at: npy) }
        let out = try CLITests.run(["logits", "--model", model, "--image", media.appendingPathComponent("image_B.png").path,
                                "--image", media.appendingPathComponent("image_C.jpg").path, "--out", npy.path,
                                "<|image_1|><|image_2|>Compare."])
        XCTAssertEqual(out.status, 0, out.stderr)
        let arr = try NpyReader.read(path: npy.path)
        XCTAssertEqual(arr.shape, [(ref["input_ids"] as? [Int])?.count ?? -1, 384])
    }

    func testImageErrorsAreClear() throws {
        let notImage = try CLITests.run(["run", "--model", model, "--image", "/etc/hostname", "x"])
        XCTAssertNotEqual(notImage.status, 0)
        XCTAssertTrue(notImage.stderr.contains("not a JPEG or PNG"), notImage.stderr)
        let missing = try CLITests.run(["run", "--model", model, "--image", "/nonexistent.png", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertFalse(missing.stderr.isEmpty)
        let mismatch = try CLITests.run(["run", "--model", model, "--image", media.appendingPathComponent("image_A.png").path,
                                     "<|image_1|><|image_2|>two?"])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.stderr.contains("placeholder"), mismatch.stderr)
        let textModel = try CLITests.run(["run", "--model", CLITests.tiny, "--image", media.appendingPathComponent("image_A.png").path, "x"])
        XCTAssertNotEqual(textModel.status, 0)
        XCTAssertTrue(textModel.stderr.contains("does not take images"), textModel.stderr)
        let tooMany = try CLITests.run(["run", "--model", model, "--max-images", "1", "--image", media.appendingPathComponent("image_A.png").path,
                                    "--image", media.appendingPathComponent("image_B.png").path, "x"])
        XCTAssertNotEqual(tooMany.status, 0)
    }

    func testTranscribeFormats() throws {
        let ref = try XCTUnwrap(try reference()["audio_short"])
        let expected = try XCTUnwrap(ref["generated_text"] as? String).trimmingCharacters(in: .whitespacesAndNewlines)
        let wav = media.appendingPathComponent("audio_short.wav").path
        let json = try CLITests.run(["transcribe", "--model", model, "--max-tokens", "8", "--format", "json", wav])
        XCTAssertEqual(json.status, 0, json.stderr)
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(j["text"] as? String, expected)
        XCTAssertTrue(json.stderr.contains("real-time factor"), json.stderr)
        let srt = try CLITests.run(["transcribe", "--model", model, "--max-tokens", "8", "--format", "srt", wav])
        XCTAssertEqual(srt.status, 0, srt.stderr)
        XCTAssertTrue(srt.stdout.hasPrefix("1\n00:00:00,000 --> 00:00:02,000\n"), srt.stdout)
        let text = try CLITests.run(["transcribe", "--model", model, "--max-tokens", "8", wav])
        XCTAssertEqual(text.stdout.trimmingCharacters(in: .whitespacesAndNewlines), expected)
        let bad = try CLITests.run(["transcribe", "--model", model, "--format", "docx", wav])
        XCTAssertNotEqual(bad.status, 0)
        let notAudio = try CLITests.run(["transcribe", "--model", model, media.appendingPathComponent("image_A.png").path])
        XCTAssertNotEqual(notAudio.status, 0)
        XCTAssertTrue(notAudio.stderr.contains("WAV"), notAudio.stderr)
        let runAudio = try CLITests.run(["run", "--model", model, "--audio", wav, "--max-tokens", "8", "--json", "Transcribe the audio to text."])
        XCTAssertEqual(runAudio.status, 0, runAudio.stderr)
        let r = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(runAudio.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(r["prompt_tokens"] as? [Int], ref["input_ids"] as? [Int])
        XCTAssertEqual(r["generated_tokens"] as? [Int], ref["generated_ids"] as? [Int])
    }
}
