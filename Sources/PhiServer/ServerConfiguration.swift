import Foundation

/// Everything `phi4 serve` can set. Defaults are safe: loopback only, no CORS, bounded sizes and queues.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Required as `Authorization: Bearer KEY` on every route but /health when set.
    public var apiKey: String?
    /// Value of Access-Control-Allow-Origin; nil disables CORS.
    public var corsOrigin: String?
    /// The id `/v1/models` lists and responses carry (any `model` in a request is accepted).
    public var modelID = "phi-4"
    /// Largest request body (JSON with base64 media) in bytes.
    public var maxBodyBytes = 32 << 20
    /// Largest audio upload for /v1/audio/* in bytes (OpenAI's limit: 25 MB).
    public var maxUploadBytes = 25 << 20
    public var maxImages = 8
    public var maxAudioSeconds: Double = 600
    /// Cap on max_tokens (and the default when a request gives none).
    public var maxTokens = 4096
    /// Requests waiting for a slot; more get 503.
    public var maxQueued = 64
    /// Most sequences decoded concurrently: the batch size of one forward pass (more requests wait in the queue).
    public var parallel = 4
    /// Prompt tokens per prefill step (smaller: fairer, larger: faster prefill).
    public var prefillChunk = 256
    /// Prefix cache byte budget in memory (0 disables the cache).
    public var cacheBytes = 1 << 30
    /// Directory where idle prefix-cache states spill when evicted from memory (nil: no spill).
    public var cacheDirectory: String?
    /// Byte budget of the spill directory.
    public var cacheDiskBytes = 8 << 30
    /// Memory the engine may hold for KV caches, scratch and the prefix cache; nil derives it from physical
    /// memory and the weights (see `InferenceEngine.defaultMemoryBudget`).
    public var memoryBudget: Int?
    /// Lets image_url / input_audio take http(s) and file URLs (off: data URLs and base64 only).
    public var allowRemoteMedia = false
    /// Lets /v1/completions turn special-token text such as `<|end|>` into control tokens.
    public var allowControlTokens = false
    /// Seconds between SSE keep-alive comments while a stream waits for its first token.
    public var keepAliveSeconds: Double = 5
    /// A test aid: outputs forced, in order, on successive generation requests (see GenerationOptions.forcedOutput).
    public var forcedOutputs: [String] = []

    public init() {}
}
