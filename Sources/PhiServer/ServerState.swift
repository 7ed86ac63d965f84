import Foundation
import PhiKit

/// What the routes share: the model once it is loaded (the server answers /health with 503 until then), the
/// engine that runs every generation, the metrics.
public final class ServerState: @unchecked Sendable {
    public enum Phase: Sendable {
        case loading
        case ready
        case failed(String)
    }

    public let configuration: ServerConfiguration
    let metrics = ServerMetrics()
    private let lock = NSLock()
    private var _phase = Phase.loading
    private var _engine: InferenceEngine?
    private var _bridge: EngineBridge?
    private var forcedIndex = 0
    let created = Int(Date().timeIntervalSince1970)

    public init(configuration: ServerConfiguration) {
        self.configuration = configuration
    }

    /// A state whose model is already loaded.
    public convenience init(model: LoadedModel, configuration: ServerConfiguration) {
        self.init(configuration: configuration)
        setModel(model)
    }

    public var phase: Phase { lock.lock(); defer { lock.unlock() }; return _phase }

    public var engine: InferenceEngine? { lock.lock(); defer { lock.unlock() }; return _engine }

    /// Quantized weights not yet repacked into the kernels' panel layout (0 once generation is at full speed).
    var weightsPendingRepack: Int { engine?.model.repacker?.remaining ?? 0 }

    public func setModel(_ model: LoadedModel) {
        let c = configuration
        let engine = InferenceEngine(model: model, configuration: .init(
            maxQueued: c.maxQueued, maxActive: c.parallel, prefillChunk: c.prefillChunk, prefixCacheBytes: c.cacheBytes,
            spillDirectory: c.cacheDirectory, spillBytes: c.cacheDiskBytes, memoryBudget: c.memoryBudget))
        lock.lock()
        _engine = engine
        _bridge = EngineBridge(model: model, configuration: c)
        _phase = .ready
        lock.unlock()
    }

    public func setFailed(_ message: String) {
        lock.lock()
        _phase = .failed(message)
        lock.unlock()
    }

    /// Stops the engine: waiting and running requests end with a clean error.
    public func shutdown() { engine?.shutdown() }

    /// The engine and bridge, or 503 while the model loads.
    func ready() throws -> (InferenceEngine, EngineBridge) {
        lock.lock()
        defer { lock.unlock() }
        switch _phase {
        case .ready:
            if let e = _engine, let b = _bridge { return (e, b) }
            throw APIError(.serviceUnavailable, "the model is loading; retry shortly")
        case .loading: throw APIError(.serviceUnavailable, "the model is loading; retry shortly")
        case .failed(let m): throw APIError(.serviceUnavailable, "the model failed to load: \(m)")
        }
    }

    /// The next forced output (test aid), tokenized; empty when none are configured.
    func nextForcedOutput(_ model: LoadedModel) -> [Int] {
        guard !configuration.forcedOutputs.isEmpty else { return [] }
        lock.lock()
        let text = configuration.forcedOutputs[forcedIndex % configuration.forcedOutputs.count]
        forcedIndex += 1
        lock.unlock()
        let end = model.tokenizer.specialTokenID("<|end|>") ?? model.eosTokenIDs.min() ?? 0
        return model.tokenizer.encode(text, parseSpecial: true) + [end]
    }
}
