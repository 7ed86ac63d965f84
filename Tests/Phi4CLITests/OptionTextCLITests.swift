import Foundation
import PhiKit
import XCTest

/// Help texts and option files of `phi4` that are generated or parsed rather than written out.
final class OptionTextCLITests: XCTestCase {
    /// Every type `--quantize` accepts is named in each help text that lists them (q5_0 was missing when the
    /// lists were written by hand).
    func testQuantizeHelpListsEveryTarget() throws {
        let targets = LoadQuantization.targetNames
        XCTAssertTrue(targets.contains("q5_0"), "\(targets)")
        for (command, flag) in [("run", "--quantize"), ("bench", "--quantize"), ("perplexity", "--compare-quantize"), ("quantize", "--type")] {
            let r = try CLITests.run([command, "--help"])
            XCTAssertEqual(r.status, 0, r.stderr)
            // The option's help, up to the next option (ArgumentParser wraps and indents it).
            let help = r.stdout.components(separatedBy: "  \(flag) ").dropFirst().first?.components(separatedBy: "\n  -").first ?? ""
            for t in targets where t != "f32" {
                XCTAssertTrue(help.contains(t), "phi4 \(command) \(flag) help does not name \(t): \(help)")
            }
        }
        let bad = try CLITests.run(["run", "--model", CLITests.tiny, "--quantize", "q3_x", "hi"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown --quantize q3_x: use") && bad.stderr.contains("q5_0"), bad.stderr)
    }

    /// `phi4 serve --forced-outputs` reads its list through PhiJSON: a list of strings, or a clear error before the
    /// server starts.
    func testServeForcedOutputsMustBeAListOfStrings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phikit-forced-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in [("numbers", "[1, 2]"), ("object", "{\"a\": \"b\"}"), ("truncated", "[\"a\""), ("bool", "[true]")] {
            let file = dir.appendingPathComponent(name + ".json")
            try Data(text.utf8).write(to: file)
            let r = try CLITests.run(["serve", "--model", CLITests.tiny, "--port", "1", "--forced-outputs", file.path])
            XCTAssertNotEqual(r.status, 0, name)
            XCTAssertTrue(r.stderr.contains("--forced-outputs must name a JSON array of strings"), "\(name): \(r.stderr)")
        }
    }
}
