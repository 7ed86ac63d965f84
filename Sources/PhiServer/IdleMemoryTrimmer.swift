import PhiKit
import ServiceLifecycle

/// Hands the memory that finished requests freed (KV caches, prompt and media buffers) back to the system once the
/// engine has gone idle. glibc keeps freed blocks in its per-thread arenas, so without this the server's resident
/// size stays at its busiest level after a burst of requests (measured with tools/server/load_test.py on SmolLM2:
/// about 40 MiB above idle after 32 concurrent streams, all of it returned by `malloc_trim`).
struct IdleMemoryTrimmer: Service {
    let state: ServerState
    var interval: Duration = .milliseconds(500)

    func run() async throws {
        // Ends with the server: cancelled on graceful shutdown.
        try? await cancelWhenGracefulShutdown {
            var lastLookups = -1
            var busy = false
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                guard let s = state.engine?.stats else { continue }
                // Every request looks the prefix cache up once, so a changed count is a request since the last
                // look, however short.
                let lookups = s.prefixCacheHits + s.prefixCacheMisses
                if s.running > 0 || s.queued > 0 || lookups != lastLookups { busy = true }
                lastLookups = lookups
                if busy, s.running == 0, s.queued == 0 {
                    Platform.releaseFreedMemory()
                    busy = false
                }
            }
        }
    }
}
