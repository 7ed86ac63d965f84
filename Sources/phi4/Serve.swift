import ArgumentParser
import Foundation
import PhiJSON
import PhiKit
import PhiServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over an OpenAI-compatible HTTP API (chat, completions, transcriptions).",
        discussion: """
        Routes: POST /v1/chat/completions, POST /v1/completions, POST /v1/audio/transcriptions, \
        POST /v1/audio/translations, GET /v1/models, GET /health (public; 503 while loading), GET /metrics.
        Binds 127.0.0.1 unless --host says otherwise. Stops cleanly on SIGINT/SIGTERM.
        Example: phi4 serve --model ~/models/Phi-4-mini-instruct --port 8080 --api-key "$KEY"
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Address to bind (0.0.0.0 exposes the server to the network).")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on.")
    var port = 8080
    @Option(help: "Require `Authorization: Bearer KEY` on every route but /health.")
    var apiKey: String?
    @Option(help: "Allow browser requests from this origin (CORS); off by default.")
    var corsOrigin: String?
    @Option(help: "Model id reported by /v1/models and in responses (any id is accepted in requests).")
    var modelID = "phi-4"
    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = 32 << 20
    @Option(help: "Largest audio upload for /v1/audio/* in bytes.")
    var maxUploadBytes = 25 << 20
    @Option(help: "Most images per request.")
    var maxImages = 8
    @Option(help: "Most seconds of audio per request.")
    var maxAudioSeconds: Double = 600
    @Option(help: "Cap on max_tokens (and the default when a request sets none).")
    var maxTokens = 4096
    @Option(help: "Requests that may wait for a slot; more are answered 503.")
    var maxQueue = 64
    @Option(help: ArgumentHelp("Most sequences decoded at once: the batch size of each forward pass.",
                               discussion: "Further requests wait in the queue (--max-queue). 1 serves one request at a time."))
    var parallel = 4
    @Option(help: "Most prompt tokens read per step, shared fairly among the requests still reading their prompt.")
    var prefillChunk = 256
    @Option(help: ArgumentHelp("Memory for cached prompt prefixes (KV states): bytes or a size such as 512M, 2G, 1GiB (0: no cache; default 1GiB).",
                               valueName: "size"))
    var cacheBytes: ByteCountArgument?
    @Option(name: .customLong("cache-mib"), help: .hidden)
    var cacheMiB: Int?
    @Option(help: ArgumentHelp("Directory where prefix-cache states evicted from memory are kept and looked up again (off by default).",
                               valueName: "dir"))
    var cacheDir: String?
    @Option(help: ArgumentHelp("Disk budget of --cache-dir (bytes or a size such as 8G).", valueName: "size"))
    var cacheDiskBytes = ByteCountArgument(bytes: 8 << 30)
    @Option(help: ArgumentHelp("Memory for KV caches, scratch and the prefix cache; a request that can never fit is a 400, others wait (default: half of physical memory after the weights).",
                               valueName: "size"))
    var memoryBudget: ByteCountArgument?
    @Flag(help: "Let image_url take http(s) and file URLs (only data: URLs otherwise).")
    var allowRemoteMedia = false
    @Flag(help: "Let /v1/completions turn special-token text (<|end|>, …) into control tokens.")
    var allowControlTokens = false
    @Option(help: .hidden)
    var forcedOutputs: String?

    /// Every number in range before anything starts (issue 10: `--cache-mib` shifted past Int's width and
    /// `--max-audio-seconds inf` passed a positivity check).
    func validate() throws {
        try OptionRange.check(port, "--port", 0...65535)
        try OptionRange.check(maxBodyBytes, "--max-body-bytes", 1...(1 << 30))
        try OptionRange.check(maxUploadBytes, "--max-upload-bytes", 1...(1 << 30))
        try OptionRange.check(maxImages, "--max-images", 0...1024)
        try OptionRange.check(maxAudioSeconds, "--max-audio-seconds", 0.001...86_400)
        try OptionRange.check(maxTokens, "--max-tokens", 1...OptionRange.generatedTokens.upperBound)
        try OptionRange.check(maxQueue, "--max-queue", 0...65_536)
        try OptionRange.check(parallel, "--parallel", 1...256)
        try OptionRange.check(prefillChunk, "--prefill-chunk", 1...65_536)
        if let cacheMiB { try OptionRange.check(cacheMiB, "--cache-mib", 0...(1 << 24)) }
    }

    func run() throws {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.apiKey = apiKey
        c.corsOrigin = corsOrigin
        c.modelID = modelID
        c.maxBodyBytes = maxBodyBytes
        c.maxUploadBytes = maxUploadBytes
        c.maxImages = maxImages
        c.maxAudioSeconds = maxAudioSeconds
        c.maxTokens = maxTokens
        c.maxQueued = maxQueue
        c.parallel = parallel
        c.prefillChunk = prefillChunk
        if let cacheBytes {
            c.cacheBytes = cacheBytes.bytes
        } else if let cacheMiB {  // the deprecated spelling, range-checked in validate()
            c.cacheBytes = cacheMiB << 20
        }
        c.cacheDiskBytes = cacheDiskBytes.bytes
        c.memoryBudget = memoryBudget?.bytes
        if let dir = cacheDir {
            // Checked now so that a typo is an error at start-up, not a silently disabled spill.
            var isDirectory: ObjCBool = false
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue,
                  FileManager.default.isWritableFile(atPath: dir) else {
                throw ValidationError("--cache-dir \(dir) is not a writable directory")
            }
            c.cacheDirectory = dir
        }
        c.allowRemoteMedia = allowRemoteMedia
        c.allowControlTokens = allowControlTokens
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
        if let path = forcedOutputs {
            // Test aid: a JSON array of strings forced, in turn, as the outputs of successive requests.
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            do {
                c.forcedOutputs = try PhiJSONDecoder().decode([String].self, from: data)
            } catch {
                throw ValidationError("--forced-outputs must name a JSON array of strings: \(error)")
            }
        }
        let options = model
        let configuration = c
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        FileHandle.standardError.write(Data("phi4 serve: listening on http://\(host):\(port) (loading \(options.model))\n".utf8))
        Task {
            do {
                try await PhiServer.run(configuration: configuration, load: { try options.load() }) { _ in
                    FileHandle.standardError.write(Data("phi4 serve: model ready\n".utf8))
                }
            } catch {
                failure.error = error
            }
            done.signal()
        }
        done.wait()
        if let e = failure.error { throw e }
    }
}

/// A byte size flag: plain bytes or a suffixed size (`512M`, `2G`, `1GiB`, `500MB`; see `ByteSize`).
struct ByteCountArgument: ExpressibleByArgument {
    var bytes: Int
    init(bytes: Int) { self.bytes = bytes }
    init?(argument: String) {
        guard let b = try? ByteSize.parse(argument) else { return nil }
        bytes = b
    }
    var defaultValueDescription: String { ByteSize.describe(bytes).replacingOccurrences(of: " ", with: "") }
}

private final class ErrorBox: @unchecked Sendable {
    var error: Error?
}
