#if canImport(Glibc)
import Glibc
#endif
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
                    SystemMemory.releaseFreed()
                    busy = false
                }
            }
        }
    }
}

/// The C library's hold on freed memory.
enum SystemMemory {
    #if canImport(Glibc)
    /// glibc's `malloc_trim`, looked up at run time (Swift's Glibc module does not export malloc.h); nil elsewhere.
    nonisolated(unsafe) private static let trim: (@convention(c) (Int) -> Int32)? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
    #endif

    /// Returns the free blocks of every malloc arena to the system; false where there is no `malloc_trim`.
    @discardableResult
    static func releaseFreed() -> Bool {
        #if canImport(Glibc)
        guard let trim else { return false }
        _ = trim(0)
        return true
        #else
        return false
        #endif
    }
}
