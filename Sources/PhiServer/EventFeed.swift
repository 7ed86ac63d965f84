import Foundation
import PhiKit

/// One request's engine events, read first by the route (to turn an early failure into an HTTP error) and then
/// by the response body writer, with SSE keep-alive ticks mixed in while the first token is awaited. Cancelling
/// the feed (a client that went away) cancels the engine request, which frees its slot and memory at once.
final class EventFeed: @unchecked Sendable {
    enum Item {
        case event(EngineEvent)
        case keepAlive
    }

    private var iterator: AsyncThrowingStream<Item, Error>.Iterator
    private let pump: Task<Void, Never>
    private let ticker: Task<Void, Never>?

    init(_ events: AsyncThrowingStream<EngineEvent, Error>, keepAliveSeconds: Double) {
        let (stream, continuation) = AsyncThrowingStream<Item, Error>.makeStream()
        pump = Task {
            do {
                for try await e in events { continuation.yield(.event(e)) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        if keepAliveSeconds > 0 {
            ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(keepAliveSeconds * 1e9))
                    if Task.isCancelled { break }
                    continuation.yield(.keepAlive)
                }
            }
        } else {
            ticker = nil
        }
        iterator = stream.makeAsyncIterator()
    }

    deinit { cancel() }

    /// Reads on; one reader at a time.
    func next() async throws -> Item? { try await iterator.next() }

    /// No more keep-alive ticks (tokens are flowing).
    func stopKeepAlive() { ticker?.cancel() }

    func cancel() {
        pump.cancel()
        ticker?.cancel()
    }
}
