import ArgumentParser
import Foundation
import PhiKit

/// Range checks for numeric options: every number a user types is finite and within what the program can honour,
/// with an error naming the flag (never an overflow, a trap or a silently empty result further in).
enum OptionRange {
    static func check(_ value: Int, _ flag: String, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    static func check(_ value: Double, _ flag: String, _ range: ClosedRange<Double>) throws {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError("\(flag) must be a finite number between \(format(range.lowerBound)) and \(format(range.upperBound)), got \(value)")
        }
    }

    private static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

    /// Threads: more than this many workers only adds contention (and each reserves a stack).
    static let threads = 1...1024
    /// Tokens to generate: the context of any model PhiKit runs is far below this; generation also stops there.
    static let generatedTokens = 0...(1 << 24)
    /// Tokens in a window or a benchmark prompt.
    static let contextTokens = 1...(1 << 24)
}

/// Size limits on text given on the command line or read from files, so that a huge input is an error up front
/// rather than gigabytes of token and cache memory (issue 10: a 114 MB chat line cost 1.6 GB).
struct InputLimitOptions: ParsableArguments {
    @Option(help: "Largest prompt (or chat line, system message, tool list) in bytes.")
    var maxPromptBytes: Int = InputLimitOptions.defaultMaxPromptBytes

    /// 8 MiB: 128k tokens of text are about 0.5 MB, so this leaves 16× headroom.
    static let defaultMaxPromptBytes = 8 << 20

    func validate() throws {
        try OptionRange.check(maxPromptBytes, "--max-prompt-bytes", 1...(1 << 30))
    }

    /// Throws when `text` (named `what` in the message) is over the limit.
    func check(_ text: String, _ what: String) throws {
        let n = text.utf8.count
        guard n <= maxPromptBytes else {
            throw CLIError("\(what) is \(n) bytes, above the --max-prompt-bytes limit of \(maxPromptBytes)")
        }
    }

    /// Reads a text file the user named: regular files only (a FIFO or device is an error, not a hang), at most
    /// `limit` bytes, UTF-8.
    static func readText(_ path: String, limit: Int, flag: String) throws -> String {
        let data: Data
        do throws(SafeFileError) {
            data = try SafeFile.read(path: (path as NSString).expandingTildeInPath, limit: limit)
        } catch {
            if case .tooLarge(_, let bytes, let l) = error {
                throw CLIError("\(path) is \(bytes) bytes, above the \(flag) limit of \(l)")
            }
            throw CLIError("\(error)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(path) is not UTF-8 text") }
        return text
    }
}
