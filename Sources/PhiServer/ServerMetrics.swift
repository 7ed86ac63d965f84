import CoreMetrics
import Foundation
import Metrics
import PhiKit
import Prometheus

/// Prometheus metrics for GET /metrics, recorded through swift-metrics with this server's own factory (no
/// process-wide bootstrap, so several servers, e.g. in tests, keep separate counts).
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let promptTokens: CoreMetrics.Counter
    private let generatedTokens: CoreMetrics.Counter
    private let cachedTokens: CoreMetrics.Counter
    private let promptSeconds: FloatingPointCounter
    private let generationSeconds: FloatingPointCounter
    private let requests: CoreMetrics.Counter
    private let failures: CoreMetrics.Counter
    private let running: CoreMetrics.Gauge
    private let queued: CoreMetrics.Gauge
    private let cacheHits: CoreMetrics.Gauge
    private let cacheMisses: CoreMetrics.Gauge
    private let cacheBytes: CoreMetrics.Gauge
    private let cacheDiskHits: CoreMetrics.Gauge
    private let spilledBytes: CoreMetrics.Gauge
    private let memoryReserved: CoreMetrics.Gauge
    private let memoryBudget: CoreMetrics.Gauge
    private let weightsPending: CoreMetrics.Gauge

    init() {
        let f = PrometheusMetricsFactory(registry: registry)
        promptTokens = CoreMetrics.Counter(label: "phikit_prompt_tokens_total", factory: f)
        generatedTokens = CoreMetrics.Counter(label: "phikit_generated_tokens_total", factory: f)
        cachedTokens = CoreMetrics.Counter(label: "phikit_prompt_cached_tokens_total", factory: f)
        promptSeconds = FloatingPointCounter(label: "phikit_prompt_seconds_total", factory: f)
        generationSeconds = FloatingPointCounter(label: "phikit_generation_seconds_total", factory: f)
        requests = CoreMetrics.Counter(label: "phikit_requests_total", factory: f)
        failures = CoreMetrics.Counter(label: "phikit_request_errors_total", factory: f)
        running = CoreMetrics.Gauge(label: "phikit_requests_running", factory: f)
        queued = CoreMetrics.Gauge(label: "phikit_requests_queued", factory: f)
        cacheHits = CoreMetrics.Gauge(label: "phikit_prefix_cache_hits", factory: f)
        cacheMisses = CoreMetrics.Gauge(label: "phikit_prefix_cache_misses", factory: f)
        cacheBytes = CoreMetrics.Gauge(label: "phikit_prefix_cache_bytes", factory: f)
        cacheDiskHits = CoreMetrics.Gauge(label: "phikit_prefix_cache_disk_hits", factory: f)
        spilledBytes = CoreMetrics.Gauge(label: "phikit_prefix_cache_disk_bytes", factory: f)
        memoryReserved = CoreMetrics.Gauge(label: "phikit_memory_reserved_bytes", factory: f)
        memoryBudget = CoreMetrics.Gauge(label: "phikit_memory_budget_bytes", factory: f)
        // Quantized weights still in the file's layout: they are repacked in the background after loading, and
        // until this reads 0 generation runs below its steady speed.
        weightsPending = CoreMetrics.Gauge(label: "phikit_weights_pending_repack", factory: f)
    }

    func finished(_ r: GenerationResult, cached: Int) {
        requests.increment()
        promptTokens.increment(by: r.promptTokens.count)
        generatedTokens.increment(by: r.generatedTokens.count)
        cachedTokens.increment(by: cached)
        promptSeconds.increment(by: r.prefillSeconds)
        generationSeconds.increment(by: r.decodeSeconds)
    }

    func failed() { failures.increment() }

    /// The text exposition, with the engine's load and the weights still to repack read at scrape time.
    func render(engine: EngineStats?, weightsPending pending: Int) -> String {
        weightsPending.record(pending)
        if let s = engine {
            running.record(s.running)
            queued.record(s.queued)
            cacheHits.record(s.prefixCacheHits)
            cacheMisses.record(s.prefixCacheMisses)
            cacheBytes.record(s.prefixCacheBytes)
            cacheDiskHits.record(s.prefixCacheDiskHits)
            spilledBytes.record(s.spilledBytes)
            memoryReserved.record(s.reservedBytes)
            memoryBudget.record(s.memoryBudget)
        }
        return registry.emitToString()
    }
}
