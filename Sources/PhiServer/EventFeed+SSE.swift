import Hummingbird
import PhiKit

extension EventFeed {
    /// Writes this feed to a streaming response as server-sent events, the loop chat and completions share:
    /// keep-alive comments until the first token, the chunks `token` makes of each token, and at the end the
    /// chunks `finish` makes, `data: [DONE]` and the end of the body. A failure after the 200 went out becomes an
    /// OpenAI-shaped error event, then the end (never a 200 whose stream just stops); a client that went away only
    /// cancels the request.
    func writeSSE(to writer: inout any ResponseBodyWriter, metrics: ServerMetrics,
                  token: (GeneratedToken) -> [[String: Any]],
                  finish: (GenerationResult, _ cached: Int) -> [[String: Any]]) async throws {
        defer { cancel() }
        do {
            while let item = try await next() {
                switch item {
                case .keepAlive: try await writer.write(SSE.keepAlive)
                case .event(.started): break
                case .event(.token(let t)):
                    stopKeepAlive()
                    for chunk in token(t) { try await writer.write(SSE.event(chunk)) }
                case .event(.finished(let r, let cached)):
                    metrics.finished(r, cached: cached)
                    for chunk in finish(r, cached) { try await writer.write(SSE.event(chunk)) }
                    try await writer.write(SSE.done)
                    try await writer.finish(nil)
                    return
                }
            }
        } catch {
            metrics.failed()
            if Task.isCancelled { throw error }
            try? await writer.write(SSE.event(APIError.from(error).body))
            try await writer.finish(nil)
        }
    }
}
