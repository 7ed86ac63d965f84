import PhiNN

/// One generation request to the `InferenceEngine`.
public struct EngineRequest: Sendable {
    /// Builds the prompt. It runs on the engine's thread, because tokenizing and above all decoding and encoding
    /// images or audio is heavy work that must not block the caller's (e.g. an HTTP server's) threads.
    public var prepare: @Sendable () throws -> PreparedPrompt
    public var options: GenerationOptions
    /// Identity of the request's media (a digest of their bytes and limits); nil for text only. A cached prefix
    /// is reused only under the same key, since placeholder tokens look alike for every image.
    public var mediaKey: String?

    public init(options: GenerationOptions, mediaKey: String? = nil, prepare: @escaping @Sendable () throws -> PreparedPrompt) {
        self.prepare = prepare
        self.options = options
        self.mediaKey = mediaKey
    }

    /// A text-only prompt whose tokens are computed on the engine's thread.
    public init(options: GenerationOptions, tokens: @escaping @Sendable () throws -> [Int]) {
        self.init(options: options) { PreparedPrompt(tokens: try tokens(), conditioning: nil, imageTokenCounts: []) }
    }

    /// A text prompt that is already tokens.
    public init(prompt: [Int], options: GenerationOptions) {
        self.init(options: options) { PreparedPrompt(tokens: prompt, conditioning: nil, imageTokenCounts: []) }
    }
}

/// What the engine reports about one request, in order: `started` once, `token` per generated token, then
/// `finished` (or the stream ends with an error).
public enum EngineEvent: Sendable {
    /// The prompt is built and valid and the request holds a slot; prefill begins.
    case started(promptTokens: Int, cachedTokens: Int)
    case token(GeneratedToken)
    case finished(GenerationResult, cachedTokens: Int)
}

public enum EngineError: Error, CustomStringConvertible, Equatable {
    case queueFull(limit: Int)
    case shuttingDown
    /// The request's KV cache at full length (prompt plus max tokens) and scratch exceed what the memory
    /// budget leaves for requests: it could never run, so it is refused rather than queued.
    case exceedsMemoryBudget(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .queueFull(let n): return "the server is busy: \(n) requests are already waiting; retry later"
        case .shuttingDown: return "the server is shutting down"
        case .exceedsMemoryBudget(let need, let available):
            return "the request needs \(ByteSize.describe(need)) for its KV cache (prompt plus max_tokens) but the memory "
                + "budget leaves \(ByteSize.describe(available)) for requests; shorten the prompt or lower max_tokens"
        }
    }
}

/// A snapshot of the engine's load and its prefix cache.
public struct EngineStats: Sendable, Equatable {
    public var queued: Int
    public var running: Int
    public var prefixCacheEntries: Int
    public var prefixCacheBytes: Int
    public var prefixCacheHits: Int
    public var prefixCacheMisses: Int
    /// Most sequences one batched forward pass has held so far.
    public var largestBatch = 0
    /// Prefix-cache hits read back from the spill directory, and what that directory holds.
    public var prefixCacheDiskHits = 0
    public var spilledEntries = 0
    public var spilledBytes = 0
    /// The memory budget, the bytes the sequences holding slots reserved, and whether the next request
    /// waits for memory.
    public var memoryBudget = 0
    public var reservedBytes = 0
    public var waitingForMemory = false
}
