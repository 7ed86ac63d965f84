import Foundation
import PhiModels
import PhiNN

/// Runs generation requests for many clients on one copy of the weights. Requests wait in a bounded FIFO queue;
/// up to `maxActive` of them hold a slot, each with its own KV cache. One worker thread runs continuous
/// batching: each step is one batched forward pass (`LanguageModel.forward(batch:)`) holding the next token of
/// every decoding sequence plus at most `prefillChunk` prompt tokens of sequences still reading their prompt
/// (shared fairly among them), so the weights are read once per step for all of them and a long prompt cannot
/// stall the others for long. A request takes its slot only once its memory (its KV cache at full length and
/// scratch) fits the memory budget; one that never could is refused. Requests join between steps; finished or
/// cancelled ones leave at once. The model's kernels use every core within each call. Finished sequences leave
/// their KV state in a prefix cache (in memory, optionally spilling to disk).
public final class InferenceEngine: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Requests waiting for a slot; more are refused (`EngineError.queueFull`).
        public var maxQueued = 64
        /// Most sequences decoded together: the batch size of one forward pass. Further requests wait.
        public var maxActive = 4
        /// Most prompt tokens one step reads (shared among the sequences still reading their prompt).
        public var prefillChunk = 256
        /// Byte budget of the prefix cache in memory (0 disables it).
        public var prefixCacheBytes = 1 << 30
        /// Directory where prefix-cache states evicted from memory are kept (nil: they are dropped).
        public var spillDirectory: String?
        /// Byte budget of the spill directory.
        public var spillBytes = 8 << 30
        /// Bytes the engine may hold for KV caches, scratch and the prefix cache; nil: `defaultMemoryBudget`.
        public var memoryBudget: Int?

        public init(maxQueued: Int = 64, maxActive: Int = 4, prefillChunk: Int = 256, prefixCacheBytes: Int = 1 << 30,
                    spillDirectory: String? = nil, spillBytes: Int = 8 << 30, memoryBudget: Int? = nil) {
            self.maxQueued = maxQueued
            self.maxActive = maxActive
            self.prefillChunk = prefillChunk
            self.prefixCacheBytes = prefixCacheBytes
            self.spillDirectory = spillDirectory
            self.spillBytes = spillBytes
            self.memoryBudget = memoryBudget
        }
    }

    /// The budget used when the configuration sets none: half of what physical memory (or the cgroup limit)
    /// leaves after the model's weights, at least 256 MiB.
    public static func defaultMemoryBudget(model: LoadedModel) -> Int {
        EngineMemory.defaultBudget(weightBytes: (model.model as? DecoderLanguageModel)?.weightBytesPerToken ?? 0)
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
    private var cacheStats = (entries: 0, bytes: 0, hits: 0, misses: 0, diskHits: 0, diskEntries: 0, diskBytes: 0)
    private let memory: EngineMemory
    /// Bytes reserved by the sequences holding slots, and whether the head of the line waits for memory.
    private var reserved = 0
    private var waitingForMemory = false

    public init(model: LoadedModel, configuration: Configuration = Configuration()) {
        var configuration = configuration
        configuration.prefillChunk = max(1, configuration.prefillChunk)
        self.model = model
        self.configuration = configuration
        generator = model.makeGenerator()
        memory = EngineMemory(model: model.model, budget: configuration.memoryBudget ?? Self.defaultMemoryBudget(model: model),
                              prefillChunk: configuration.prefillChunk, maxActive: configuration.maxActive)
        var spill: PrefixSpill?
        if let dir = configuration.spillDirectory, configuration.spillBytes > 0, configuration.prefixCacheBytes > 0 {
            let shape = model.model.makeCache(maxLength: 1)
            let adapters = [model.multimodal?.visionLoRA, model.multimodal?.speechLoRA].compactMap { $0 }
            spill = PrefixSpill(directory: URL(fileURLWithPath: dir), budgetBytes: configuration.spillBytes,
                                layers: shape.layers, kvHeads: shape.kvHeads, headDim: shape.headDim, adapters: adapters)
        }
        prefixCache = PrefixCache(budgetBytes: configuration.prefixCacheBytes, spill: spill)
        let t = Thread { [weak self] in self?.run() }
        t.name = "phikit-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    // No waiting here: a worker that never ran cannot run now (it holds the engine weakly).
    deinit { stop(wait: false) }

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
                           prefixCacheMisses: cacheStats.misses, largestBatch: largestBatch,
                           prefixCacheDiskHits: cacheStats.diskHits, spilledEntries: cacheStats.diskEntries,
                           spilledBytes: cacheStats.diskBytes, memoryBudget: memory.budget, reservedBytes: reserved,
                           waitingForMemory: waitingForMemory)
    }

    /// Stops taking requests, ends every waiting and running one with `EngineError.shuttingDown` and stops the
    /// worker thread after its current step.
    /// Waits (up to 30 s, and not when called on the worker itself) for the worker to end, so that the
    /// engine's spill files are gone when a server process exits after it.
    public func shutdown() { stop(wait: true) }

    private func stop(wait: Bool) {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        guard wait, Thread.current !== thread else { return }
        let deadline = Date(timeIntervalSinceNow: 30)
        while !workerDone, condition.wait(until: deadline) {}
    }
    /// The worker thread has ended (set under the lock).
    private var workerDone = false

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
                prefixCache.spill?.removeAll()  // this engine's files go with it
                condition.lock()
                workerDone = true
                condition.broadcast()
                condition.unlock()
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
            reserved = active.reduce(0) { $0.clampedSum($1.reservation) }
            while active.count < configuration.maxActive, !queue.isEmpty { active.append(queue.removeFirst()) }
            guard !active.isEmpty else { condition.unlock(); continue }
            let jobs = active
            condition.unlock()

            let done = step(jobs)
            if !done.isEmpty {
                condition.lock()
                active.removeAll { job in done.contains { $0 === job } }
                reserved = active.reduce(0) { $0.clampedSum($1.reservation) }
                let limit = min(configuration.prefixCacheBytes, memory.forRequests - reserved)
                condition.unlock()
                // Finished states went to the prefix cache: it keeps within what the requests leave (outside
                // the lock: evicting may write to disk).
                prefixCache.shrink(to: limit)
                condition.lock()
                publishCacheStats()
                condition.unlock()
            }
        }
    }

    /// One engine step: starts at most one new request (building its prompt is heavy work; the first waiting
    /// request goes first and waits while its memory does not fit), then runs the next model call of every
    /// started one as one batched forward pass and hands each its logits. Returns the jobs that are over.
    private func step(_ jobs: [Job]) -> [Job] {
        var done: [Job] = []
        if let job = jobs.first(where: { $0.state == nil && !$0.isCancelled }) {
            do {
                try start(job, others: jobs)
            } catch {
                job.continuation.finish(throwing: error)
                done.append(job)
            }
        }
        // The calls: one per decoding sequence, and prompt chunks within the step's prefill budget.
        let shares = prefillShares(jobs)
        // Speculative drafts pay only for a sequence decoding alone: in a batch the weights are already read once
        // for several rows, so a draft's extra rows would slow every sequence in it.
        let alone = jobs.filter { !$0.isCancelled && $0.state != nil }.count == 1
        var calls: [(job: Job, item: BatchItem?)] = []
        for job in jobs where !job.isCancelled {
            guard var state = job.state else { continue }
            state.mayDraft = alone
            var maxPrefill = configuration.prefillChunk
            if state.remainingPrompt > 0 {
                guard let share = shares[ObjectIdentifier(job)], share > 0 else { continue }  // a later step
                maxPrefill = share
            }
            let item = state.nextCall(maxPrefill: maxPrefill)
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

    /// The step's prefill budget shared max-min fairly among the sequences still reading their prompt: each
    /// gets an equal share, and what a short prompt leaves over goes to the longer ones. A short prompt that
    /// arrives while a long one is read is thus done within a step or two instead of waiting for the whole
    /// long prompt; decode steps of the others go on every step regardless.
    private func prefillShares(_ jobs: [Job]) -> [ObjectIdentifier: Int] {
        let reading = jobs.compactMap { j -> (Job, Int)? in
            guard !j.isCancelled, let r = j.state?.remainingPrompt, r > 0 else { return nil }
            return (j, r)
        }.enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element)
        var budget = configuration.prefillChunk, left = reading.count
        var shares: [ObjectIdentifier: Int] = [:]
        for (job, remaining) in reading {
            let take = min(remaining, max(1, budget / max(1, left)), budget)
            shares[ObjectIdentifier(job)] = take
            budget -= take
            left -= 1
        }
        return shares
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
        cacheStats = (prefixCache.entries.count, prefixCache.bytes, prefixCache.hits, prefixCache.misses,
                      prefixCache.diskHits, prefixCache.spill?.entries.count ?? 0, prefixCache.spill?.bytes ?? 0)
    }

    /// Builds the prompt (once), then admits the request when its memory fits the budget next to the running
    /// ones (making room in the prefix cache first), takes the longest cached prefix and validates. Errors end
    /// the request before any token; a request that fits only later stays prepared and keeps its place.
    private func start(_ job: Job, others jobs: [Job]) throws {
        let prepared: PreparedPrompt
        if let p = job.prepared {
            prepared = p
        } else {
            prepared = try job.request.prepare()
            job.prepared = prepared
        }
        let options = job.request.options
        let limit = model.model.contextLength
        guard !prepared.tokens.isEmpty else { throw GenerationError.emptyPrompt }
        guard prepared.tokens.count <= limit else { throw GenerationError.promptTooLong(tokens: prepared.tokens.count, limit: limit) }
        let need = memory.reservation(promptTokens: prepared.tokens.count, maxTokens: options.maxTokens, contextLength: limit)
        guard need <= memory.forRequests else {
            throw EngineError.exceedsMemoryBudget(needed: need, available: memory.forRequests)
        }
        let inUse = jobs.reduce(0) { $0.clampedSum($1.isCancelled ? 0 : $1.reservation) }
        guard inUse.clampedSum(need) <= memory.forRequests else {
            setWaiting(true, reserved: inUse)
            return  // waits for running sequences to leave
        }
        // The prefix cache gives way to requests.
        prefixCache.shrink(to: min(configuration.prefixCacheBytes, memory.forRequests - inUse - need))
        var cache: KVCache?
        var conditioning = prepared.conditioning
        if let hit = prefixCache.lookup(prompt: prepared.tokens, mediaKey: job.request.mediaKey,
                                        maxLength: EngineMemory.maxLength(promptTokens: prepared.tokens.count,
                                                                          maxTokens: options.maxTokens, contextLength: limit)) {
            // The media key is only a digest: reuse needs the very same features at the same positions (and,
            // for a state read from disk, the same adapter).
            if hit.conditioning?.positions == prepared.conditioning?.positions,
               hit.conditioning?.rows == prepared.conditioning?.rows,
               hit.conditioning?.adapter === prepared.conditioning?.adapter {
                cache = hit.cache
                if hit.conditioning != nil { conditioning = hit.conditioning }
            }
        }
        let state = try DecodeState(generator: generator, prompt: prepared.tokens, options: options, cache: cache,
                                    conditioning: conditioning)
        job.prepared = nil
        job.reservation = need
        job.state = state
        setWaiting(false, reserved: inUse + need)
        job.continuation.yield(.started(promptTokens: prepared.tokens.count, cachedTokens: state.cachedTokens))
    }

    private func setWaiting(_ waiting: Bool, reserved bytes: Int) {
        condition.lock()
        waitingForMemory = waiting
        reserved = bytes
        publishCacheStats()
        condition.unlock()
    }

    private final class Job: @unchecked Sendable {
        let request: EngineRequest
        let continuation: AsyncThrowingStream<EngineEvent, Error>.Continuation
        /// Touched only by the worker thread: the running state, or the built prompt of a request waiting for
        /// memory, and the bytes it reserved when admitted.
        var state: DecodeState?
        var prepared: PreparedPrompt?
        var reservation = 0
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
