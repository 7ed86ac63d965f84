import Foundation
import Hummingbird
import NIOCore
import PhiKit

/// POST /v1/audio/transcriptions and /v1/audio/translations (Phi-4-multimodal). The recording is cut at pauses
/// and each piece prompted and stitched as `Transcriber` does (its `split`, `prompt` and `TranscriptStitcher`), but
/// each piece goes through the engine as its own request, so a long recording shares the machine fairly with chat
/// requests.
struct Transcriptions {
    let state: ServerState
    let translate: Bool

    func handle(_ request: Request, body: ByteBuffer) async throws -> Response {
        let (engine, bridge) = try state.ready()
        let form = try MultipartForm(body: body, contentType: request.headers[.contentType])
        guard let file = form.file("file"), !file.data.isEmpty else {
            throw APIError.invalid("'file' is required: the audio (WAV or FLAC) as a multipart file", param: "file")
        }
        guard file.data.count <= state.configuration.maxUploadBytes else {
            throw APIError(.contentTooLarge, "the audio file is over \(state.configuration.maxUploadBytes) bytes", param: "file")
        }
        let formatName = form.text("response_format") ?? "json"
        guard let format = TranscriptFormat(rawValue: formatName) else {
            throw APIError.invalid("'response_format' must be one of \(TranscriptFormat.allCases.map(\.rawValue).joined(separator: ", "))",
                                   param: "response_format")
        }
        let granularities = form.values("timestamp_granularities[]", "timestamp_granularities")
            .flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        for g in granularities where g != "segment" {
            throw APIError.invalid(g == "word" ? "word timestamps are not available: the model gives no word times (use segment)"
                                              : "unknown timestamp granularity '\(g)' (segment)", param: "timestamp_granularities")
        }
        if let t = form.text("temperature") {
            guard let v = Double(t), v >= 0, v <= 1 else { throw APIError.invalid("'temperature' must be a number in 0…1", param: "temperature") }
        }
        let stream = ["true", "1"].contains(form.text("stream")?.lowercased() ?? "")
        guard bridge.model.multimodal != nil else {
            throw APIError.invalid("this model does not take audio; transcription needs Phi-4-multimodal", param: "model")
        }
        var options = TranscriptionOptions(language: form.text("language").flatMap { $0.isEmpty ? nil : $0 })
        if translate { options.translateTo = form.text("translate_to") ?? "English" } else if let to = form.text("translate_to") {
            options.translateTo = to
        }
        let maxSeconds = state.configuration.maxAudioSeconds
        let clip: AudioClip
        do {
            clip = try AudioDecoder.decode(file.data, limits: AudioLimits(maxSeconds: maxSeconds, maxBytes: state.configuration.maxUploadBytes))
        } catch {
            throw APIError.invalid("invalid audio: \(error)", param: "file", code: "invalid_audio")
        }
        let recording: Transcriber.SplitRecording
        do {
            recording = try Transcriber.split(clip, options: options)
        } catch {
            throw APIError.invalid("invalid audio: \(error)", param: "file", code: "invalid_audio")
        }
        let job = Job(model: bridge.model, engine: engine, recording: recording, options: options,
                      maxTokens: min(options.maxTokensPerChunk, state.configuration.maxTokens), metrics: state.metrics)
        if stream {
            // The first piece is accepted before the 200 goes out, so a bad request is still an HTTP error.
            let first = try await job.start(0)
            return Response(status: .ok, headers: SSE.headers, body: ResponseBody { writer in
                var text = ""
                do {
                    _ = try await job.run(first: first) { delta in
                        text += delta
                        try await writer.write(SSE.event(["type": "transcript.text.delta", "delta": delta]))
                    }
                    try await writer.write(SSE.event(["type": "transcript.text.done", "text": text]))
                    try await writer.write(SSE.done)
                } catch {
                    if Task.isCancelled { throw error }
                    try? await writer.write(SSE.event(APIError.from(error).body))
                }
                try await writer.finish(nil)
            })
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let first = try await job.start(0)
        let stitched = try await request.body.consumeWithInboundCloseHandler { _ in
            try await job.run(first: first) { _ in }
        } onInboundClosed: {
            job.cancel()
        }
        let transcript = Transcript(text: stitched.text, segments: stitched.segments, duration: recording.duration,
                                    language: options.language, task: options.task,
                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        let text = try format.render(transcript)
        let type = format == .json || format == .verbose_json ? "application/json" : "text/plain; charset=utf-8"
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text))).closingConnection()
    }

    /// The pieces of one recording, transcribed in order through the engine.
    final class Job: @unchecked Sendable {
        let model: LoadedModel
        let engine: InferenceEngine
        let recording: Transcriber.SplitRecording
        let options: TranscriptionOptions
        let maxTokens: Int
        let metrics: ServerMetrics
        private let lock = NSLock()
        private var feeds: [EventFeed] = []
        private var cancelled = false

        init(model: LoadedModel, engine: InferenceEngine, recording: Transcriber.SplitRecording,
             options: TranscriptionOptions, maxTokens: Int, metrics: ServerMetrics) {
            self.model = model
            self.engine = engine
            self.recording = recording
            self.options = options
            self.maxTokens = maxTokens
            self.metrics = metrics
        }

        /// Keeps the feed for `cancel()`; true when the job is already cancelled.
        private func register(_ feed: EventFeed) -> Bool {
            lock.lock()
            defer { lock.unlock() }
            feeds.append(feed)
            return cancelled
        }

        func cancel() {
            lock.lock()
            cancelled = true
            let all = feeds
            lock.unlock()
            all.forEach { $0.cancel() }
        }

        /// Submits piece `k` and waits until the engine accepts it.
        func start(_ k: Int) async throws -> EventFeed {
            let piece = recording.clip(recording.pieces[k])
            let (model, options) = (self.model, self.options)
            let request = EngineRequest(options: GenerationOptions(maxTokens: maxTokens)) {
                try Transcriber.prompt(piece, options: options, model: model)
            }
            let feed = EventFeed(try engine.submit(request), keepAliveSeconds: 0)
            if register(feed) { feed.cancel(); throw GenerationError.cancelled }
            _ = try await ChatCompletions.awaitStart(feed)
            return feed
        }

        /// Transcribes every piece; `onText` gets text as it comes (with the separators between pieces).
        func run(first: EventFeed, onText: (String) async throws -> Void) async throws -> TranscriptStitcher {
            var stitcher = TranscriptStitcher(sampleRate: recording.sampleRate)
            for k in recording.pieces.indices {
                let feed = k == 0 ? first : try await start(k)
                var ids: [Int] = []
                while let item = try await feed.next() {
                    guard case .event(let e) = item else { continue }
                    if case .token(let t) = e {
                        let shown = stitcher.add(t.text)
                        if !shown.isEmpty { try await onText(shown) }
                    } else if case .finished(let r, let cached) = e {
                        metrics.finished(r, cached: cached)
                        ids = r.generatedTokens
                    }
                }
                stitcher.endPiece(samples: recording.pieces[k], tokens: ids)
            }
            return stitcher
        }
    }
}
