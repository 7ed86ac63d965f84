import Foundation
import PhiNN

/// Runs generation requests for many clients on one copy of the weights. Requests wait in a bounded FIFO queue;
/// up to `maxActive` of them hold a slot, each with its own KV cache. One worker thread runs continuous
/// batching: each step is one batched forward pass (`LanguageModel.forward(batch:)`) holding the next token of
/// every decoding sequence plus at most `prefillChunk` prompt tokens of sequences still reading their prompt,
/// so the weights are read once per step for all of them and a long prompt cannot stall the others for long.
/// Requests join between steps; finished or cancelled ones leave at once. The model's kernels use every core
/// within each call. Finished sequences leave their KV state in a prefix cache.
public final class InferenceEngine: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Requests waiting for a slot; more are refused (`EngineError.queueFull`).
        public var maxQueued = 64
        /// Sequences decoded together (one batched forward pass per step).
        public var maxActive = 4
        /// Most prompt tokens one step reads (over all sequences still reading their prompt).
        public var prefillChunk = 256
        /// Byte budget of the prefix cache (0 disables it).
        public var prefixCacheBytes = 1 << 30

        public init(maxQueued: Int = 64, maxActive: Int = 4, prefillChunk: Int = 256, prefixCacheBytes: Int = 1 << 30) {
            self.maxQueued = maxQueued
            self.maxActive = maxActive
            self.prefillChunk = prefillChunk
            self.prefixCacheBytes = prefixCacheBytes
        }
    }

    public let model: LoadedModel
    public let configuration: Configuration
    private let generator: Generator
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var active: [Job] = []
    private var stopping = false
    private var thread: Thread?
    private let prefixCache: PrefixCache
    private var cacheStats = (entries: 0, bytes: 0, hits: 0, misses: 0)

    public init(model: LoadedModel, configuration: Configuration = Configuration()) {
        self.model = model
        self.configuration = configuration
        generator = model.makeGenerator()
        prefixCache = PrefixCache(budgetBytes: configuration.prefixCacheBytes)
        let t = Thread { [weak self] in self?.run() }
        t.name = "phikit-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    deinit { shutdown() }

    /// Queues a request. Throws `EngineError.queueFull` when the queue is at its limit. Ending the iteration
    /// of the returned stream (or cancelling the task that iterates it) cancels the request and frees its state.
    public func submit(_ request: EngineRequest) throws -> AsyncThrowingStream<EngineEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream<EngineEvent, Error>.makeStream()
        let job = Job(request: request, continuation: continuation)
        continuation.onTermination = { [weak job, weak self] _ in
            job?.cancel()
            self?.wake()
        }
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw EngineError.shuttingDown }
        guard queue.count < configuration.maxQueued || active.count < configuration.maxActive else {
            throw EngineError.queueFull(limit: configuration.maxQueued)
        }
        queue.append(job)
        condition.signal()
        return stream
    }

    public var stats: EngineStats {
        condition.lock()
        defer { condition.unlock() }
        return EngineStats(queued: queue.count, running: active.count, prefixCacheEntries: cacheStats.entries,
                           prefixCacheBytes: cacheStats.bytes, prefixCacheHits: cacheStats.hits,
                           prefixCacheMisses: cacheStats.misses, largestBatch: largestBatch)
    }

    /// Stops taking requests, ends every waiting and running one with `EngineError.shuttingDown` and stops the
    /// worker thread after its current step.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Empties the prefix cache (on the worker thread, between steps).
    public func clearPrefixCache() {
        condition.lock()
        clearCache = true
        condition.broadcast()
        condition.unlock()
    }
    private var clearCache = false
    /// Most sequences one forward pass has held so far.
    private var largestBatch = 0

    private func wake() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while !stopping && queue.isEmpty && active.isEmpty && !clearCache { condition.wait() }
            if stopping {
                let all = queue + active
                queue = []
                active = []
                condition.unlock()
                for job in all { job.continuation.finish(throwing: EngineError.shuttingDown) }
                return
            }
            if clearCache {
                clearCache = false
                prefixCache.removeAll()
                publishCacheStats()
            }
            // Cancelled requests leave at once, queued or running.
            queue.removeAll { $0.isCancelled }
            active.removeAll { $0.isCancelled }
            while active.count < configuration.maxActive, !queue.isEmpty { active.append(queue.removeFirst()) }
            guard !active.isEmpty else { condition.unlock(); continue }
            let jobs = active
            condition.unlock()

            let done = step(jobs)
            if !done.isEmpty {
                condition.lock()
                defer { condition.unlock() }
                active.removeAll { job in done.contains { $0 === job } }
                publishCacheStats()
            }
        }
    }

    /// One engine step: starts at most one new request (building its prompt is heavy work), then runs the next
    /// model call of every started one as one batched forward pass and hands each its logits. Returns the jobs
    /// that are over.
    private func step(_ jobs: [Job]) -> [Job] {
        var done: [Job] = []
        if let job = jobs.first(where: { !$0.started && !$0.isCancelled }) {
            job.started = true
            do { try start(job) } catch {
                job.continuation.finish(throwing: error)
                done.append(job)
            }
        }
        // The calls: one per decoding sequence; prompt chunks up to the step's prefill budget, in arrival order.
        var calls: [(job: Job, item: BatchItem?)] = []
        var budget = configuration.prefillChunk
        for job in jobs where !job.isCancelled {
            guard var state = job.state else { continue }
            let prefilling = state.remainingPrompt > 0
            if prefilling && budget <= 0 { continue }  // its next chunk waits for a later step
            let item = state.nextCall(maxPrefill: prefilling ? budget : configuration.prefillChunk)
            if prefilling { budget -= item?.tokens.count ?? 0 }
            job.state = state
            calls.append((job, item))
        }
        let items = calls.compactMap(\.item)
        var outputs: [[Float]?]
        do {
            let out = try model.model.forward(batch: items)
            var k = 0
            outputs = calls.map { c in
                guard c.item != nil else { return nil }
                defer { k += 1 }
                return out[k]
            }
        } catch {
            // The batched pass validates every item before changing any cache: run them alone to find the bad one.
            outputs = calls.map { c in
                guard let item = c.item else { return nil }
                do { return try model.model.forward(batch: [item]).first ?? [] } catch {
                    c.job.state = nil
                    c.job.continuation.finish(throwing: error)
                    done.append(c.job)
                    return nil
                }
            }
        }
        if items.count > 1 {
            condition.lock()
            largestBatch = max(largestBatch, items.count)
            condition.unlock()
        }
        for (k, c) in calls.enumerated() where c.job.state != nil {
            if deliver(c.job, logits: outputs[k]) { done.append(c.job) }
        }
        return done
    }

    /// Hands a job the logits of its call (nil when it made none); true when the job is over.
    private func deliver(_ job: Job, logits: [Float]?) -> Bool {
        guard var state = job.state else { return true }
        do {
            let tokens = try state.complete(logits)
            job.state = state
            for t in tokens { job.continuation.yield(.token(t)) }
            guard state.isFinished else { return false }
            job.state = nil
            // Kept before the client hears of the end, so its next turn finds the state.
            prefixCache.insert(state.cache, mediaKey: job.request.mediaKey, conditioning: state.conditioning)
            job.continuation.yield(.finished(state.result, cachedTokens: state.cachedTokens))
            job.continuation.finish()
            return true
        } catch {
            job.state = nil
            job.continuation.finish(throwing: error)
            return true
        }
    }

    /// Called with the lock held.
    private func publishCacheStats() {
        cacheStats = (prefixCache.entries.count, prefixCache.bytes, prefixCache.hits, prefixCache.misses)
    }

    /// Builds the prompt, takes the longest cached prefix and validates (errors end the request before any token).
    private func start(_ job: Job) throws {
        let prepared = try job.request.prepare()
        let options = job.request.options
        let limit = model.model.contextLength
        var cache: KVCache?
        var conditioning = prepared.conditioning
        if prepared.tokens.count <= limit,
           let hit = prefixCache.lookup(prompt: prepared.tokens, mediaKey: job.request.mediaKey,
                                        maxLength: min(limit, prepared.tokens.count + max(0, options.maxTokens))) {
            // The media key is only a digest: reuse needs the very same features at the same positions.
            if hit.conditioning?.positions == prepared.conditioning?.positions,
               hit.conditioning?.rows == prepared.conditioning?.rows {
                cache = hit.cache
                if hit.conditioning != nil { conditioning = hit.conditioning }
            }
        }
        let state = try DecodeState(generator: generator, prompt: prepared.tokens, options: options, cache: cache,
                                    conditioning: conditioning)
        job.state = state
        job.continuation.yield(.started(promptTokens: prepared.tokens.count, cachedTokens: state.cachedTokens))
    }

    private final class Job: @unchecked Sendable {
        let request: EngineRequest
        let continuation: AsyncThrowingStream<EngineEvent, Error>.Continuation
        /// Touched only by the worker thread.
        var state: DecodeState?
        var started = false
        private let lock = NSLock()
        private var cancelled = false

        init(request: EngineRequest, continuation: AsyncThrowingStream<EngineEvent, Error>.Continuation) {
            self.request = request
            self.continuation = continuation
        }

        func cancel() { lock.lock(); cancelled = true; lock.unlock() }
        var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
    }
}
