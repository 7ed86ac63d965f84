import Dispatch
import Foundation
import PhiKernels
import PhiTensor

/// A GGML block-quantized matrix as the kernels read it: the GGML rows where they lie (usually a memory-mapped
/// file) until the 16-row interleaved panels are ready, then the panels. Both paths give bit-identical products
/// (the drivers feed the panel kernel the same panel and token blocks), so a weight may switch between two
/// tokens without changing any output. Once repacked, the mapped pages are given back, chunk by chunk, so the
/// resident set never holds both full copies.
final class QuantizedWeight: @unchecked Sendable {
    let source: Tensor
    let type: DType
    let rows: Int
    let columns: Int
    private let panels = PublishedPointer()
    /// The background repacker this weight waits for (nil when repacked in the initializer).
    weak var repacker: WeightRepacker?
    /// Keeps the published panels alive; written once, before publishing.
    private var buffer: ByteBuffer?

    init(source: Tensor, type: DType, rows: Int, columns: Int) {
        self.source = source
        self.type = type
        self.rows = rows
        self.columns = columns
    }

    var isRepacked: Bool { panels.value != nil }

    /// Repacks once (later calls return at once). Not to be called from two threads at the same time.
    func repack(parallel: Parallel) throws {
        guard panels.value == nil else { return }
        let bytes = QuantKernels.repackedByteCount(type: type, n: rows, k: columns)
        guard bytes > 0 else { return }
        let out = ByteBuffer(count: bytes)
        // Chunks of whole panels, about 32 MiB of source each: the source pages leave the resident set as
        // soon as their panels are written.
        let rowBytes = source.byteCount / max(rows, 1)
        let panel = QuantKernels.panelRows
        let chunkRows = max(panel, (32 << 20) / max(rowBytes, 1) / panel * panel)
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + chunkRows)
            try QuantKernels.repack(weight: source.data, type: type, n: rows, k: columns, into: out.pointer,
                                    rows: r0..<r1, parallel: parallel)
            source.releaseMappedPages(offset: r0 * rowBytes, count: (r1 - r0) * rowBytes)
            r0 = r1
        }
        buffer = out
        panels.publish(out.pointer)
    }

    func callAsFunction(_ x: UnsafePointer<Float>, ldx: Int, rows T: Int, into y: UnsafeMutablePointer<Float>, ldy: Int,
                        parallel: Parallel) throws {
        if let p = panels.value {
            try QuantKernels.matmulRepacked(x: x, ldx: ldx, rows: T, k: columns, weight: UnsafeRawPointer(p),
                                            type: type, n: rows, y: y, ldy: ldy, parallel: parallel)
        } else {
            repacker?.used(self)
            try QuantKernels.matmul(x: x, ldx: ldx, rows: T, k: columns, weight: source.data, type: type,
                                    n: rows, y: y, ldy: ldy, parallel: parallel)
        }
    }
}

/// Repacks quantized weights in the background after a model is loaded, so loading only maps the file and the
/// first token is computed from the GGML rows (as llama.cpp does for the types it does not repack). Repacking
/// starts when a weight is used a second time (the first forward pass is over), on `start`, or on `wait`; it
/// then shares the CPU with generation until the panels are written. Outputs do not depend on when each weight
/// switches.
///
/// Loaders pass one to the model they build (`ModelLoadOptions.repacker`); every `Linear` over mapped quantized
/// weights given it registers here instead of repacking in its initializer.
public final class WeightRepacker: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [QuantizedWeight] = []
    private var started = false
    private var seen = Set<ObjectIdentifier>()
    private let done = DispatchGroup()
    /// `threads` repacking threads, each repacking one weight at a time.
    private let threads: Int

    /// `parallel`: the model's threads; repacking uses as many.
    public init(parallel: Parallel = Parallel()) {
        threads = parallel.threads
    }

    func add(_ weight: QuantizedWeight) {
        lock.lock()
        defer { lock.unlock() }
        pending.append(weight)
        weight.repacker = self
    }

    /// A weight served a product from its GGML rows; its second use starts the repacking.
    func used(_ weight: QuantizedWeight) {
        lock.lock()
        let again = !started && !seen.insert(ObjectIdentifier(weight)).inserted
        lock.unlock()
        if again { start() }
    }

    /// Weights registered and not yet repacked.
    public var remaining: Int {
        lock.lock()
        defer { lock.unlock() }
        return pending.count { !$0.isRepacked }
    }

    /// Starts repacking on the model's number of threads, in registration order (the order a forward pass reads
    /// the weights), one weight per thread at a time. Later calls do nothing.
    public func start() {
        lock.lock()
        guard !started else { lock.unlock(); return }
        started = true
        seen = []
        let work = pending
        lock.unlock()
        guard !work.isEmpty else { return }
        let next = Counter()
        for i in 0..<min(threads, work.count) {
            done.enter()
            Platform.startThread(name: "phikit-repack-\(i)") { [self] in
                defer { done.leave() }
                // `Linear` checked each shape, so repacking cannot fail; a weight that somehow could not be
                // repacked would keep working from its GGML rows.
                while !isCancelled, let k = next.take(below: work.count) { try? work[k].repack(parallel: Parallel(threads: 1)) }
            }
        }
    }

    /// Hands out 0, 1, 2, … to threads.
    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func take(below limit: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }

    /// Stops after the weights being repacked now (the model is no longer wanted); the rest keep their GGML
    /// rows, which work as well.
    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    private var cancelled = false
    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    /// Starts the repacking if it has not started, and blocks until every registered weight is repacked (or,
    /// after `cancel`, until the threads stopped).
    public func wait() {
        start()
        done.wait()
    }
}
