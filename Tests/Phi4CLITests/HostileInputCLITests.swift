import Foundation
import XCTest

/// Issue 10, findings 5–7 through the CLI (debug build; tools/fuzz/hostile-cli.sh runs these and more against a
/// release build): out-of-range numbers are usage errors naming the flag, FIFOs are errors rather than hangs.
final class HostileInputCLITests: XCTestCase {
    private var tiny: String { CLITests.tiny }
    private var mm: String { CLITests.fixtures.appendingPathComponent("phi4mm-tiny").path }

    private func assertUsageError(_ args: [String], mentions flag: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLITests.run(args)
        XCTAssertEqual(r.status, 64, "exit status; stderr: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(flag), "stderr should name \(flag): \(r.stderr)", file: file, line: line)
    }

    func testNonFiniteAndOutOfRangeNumbers() throws {
        for v in ["inf", "1e300", "nan"] {
            try assertUsageError(["transcribe", "--model", mm, "--chunk-seconds", v, "x.wav"], mentions: "--chunk-seconds")
        }
        try assertUsageError(["run", "--model", tiny, "--max-tokens", "9223372036854775000", "hi"], mentions: "--max-tokens")
        try assertUsageError(["run", "--model", mm, "--max-audio-seconds", "inf", "hi"], mentions: "--max-audio-seconds")
        try assertUsageError(["run", "--model", mm, "--max-crops", "0", "hi"], mentions: "--max-crops")
        try assertUsageError(["run", "--model", tiny, "--threads", "100000", "hi"], mentions: "--threads")
        try assertUsageError(["bench", "--model", tiny, "-n", "9223372036854775807"], mentions: "-n")
        try assertUsageError(["perplexity", "--model", tiny, "--file", "x", "--ctx", "9223372036854775807"], mentions: "--ctx")
    }

    func testPromptSizeLimit() throws {
        let r = try CLITests.run(["run", "--model", tiny, "--max-prompt-bytes", "10", "a prompt of 28 bytes of text"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("the prompt is 28 bytes, above the --max-prompt-bytes limit of 10"), r.stderr)
        let chat = try CLITests.run(["chat", "--model", tiny, "--max-prompt-bytes", "10"], stdin: "a line of 24 bytes, long\n/exit\n")
        XCTAssertEqual(chat.status, 0, chat.stderr)
        XCTAssertTrue(chat.stderr.contains("above the --max-prompt-bytes limit"), chat.stderr)
    }

    func testServeAndSamplingNumbers() throws {
        // serve checks its numbers before it loads a model or binds a port
        try assertUsageError(["serve", "--model", tiny, "--port", "0", "--cache-mib", "9223372036854775807"], mentions: "--cache-mib")
        try assertUsageError(["serve", "--model", tiny, "--port", "0", "--max-audio-seconds", "inf"], mentions: "--max-audio-seconds")
        try assertUsageError(["serve", "--model", tiny, "--port", "0", "--max-tokens", "9223372036854775807"], mentions: "--max-tokens")
        try assertUsageError(["serve", "--model", tiny, "--port", "70000"], mentions: "--port")
        try assertUsageError(["run", "--model", tiny, "--top-k", "9223372036854775807", "hi"], mentions: "--top-k")
        try assertUsageError(["run", "--model", tiny, "--presence-penalty", "nan", "hi"], mentions: "presence penalty")
        try assertUsageError(["chat", "--model", tiny, "--repeat-penalty", "inf"], mentions: "repetition penalty")
        try assertUsageError(["run", "--model", mm, "--max-images", "-1", "hi"], mentions: "--max-images")
        try assertUsageError(["run", "--model", tiny, "--max-prompt-bytes", "0", "hi"], mentions: "--max-prompt-bytes")
    }

    /// A chat line over the limit is reported with its length and skipped; it is never held whole (lines are
    /// read in blocks), the lines after it still work, and CRLF line ends are taken as line ends.
    func testLongChatLineIsSkipped() throws {
        let long = String(repeating: "x", count: 200_000)
        let chat = try CLITests.run(["chat", "--model", tiny, "--max-prompt-bytes", "100000", "--max-tokens", "2"],
                                    stdin: long + "\r\n" + "hello\r\n/exit\r\n")
        XCTAssertEqual(chat.status, 0, chat.stderr)
        XCTAssertTrue(chat.stderr.contains("the line is 200000 bytes, above the --max-prompt-bytes limit of 100000"), chat.stderr)
        // The long line is skipped at once (the next prompt follows the first), then hello is answered before /exit.
        XCTAssertTrue(chat.stdout.hasPrefix("> > "), chat.stdout)
        XCTAssertGreaterThanOrEqual(chat.stdout.components(separatedBy: "> ").count, 4, chat.stdout)
        XCTAssertFalse(chat.stderr.contains("error: the line is 5"), chat.stderr)
    }

    func testFIFOAudioIsAnErrorNotAHang() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("speech.wav").path
        guard mkfifo(fifo, 0o600) == 0 else { throw XCTSkip("mkfifo failed") }
        let r = try CLITests.run(["transcribe", "--model", mm, fifo])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("not a regular file: it is a FIFO"), r.stderr)
        XCTAssertFalse(r.stderr.contains("permission"), r.stderr)
    }
}
