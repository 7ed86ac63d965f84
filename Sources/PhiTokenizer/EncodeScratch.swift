/// Per-call working memory of the encoder: symbol buffers for BPE and the piece cache.
///
/// A `Tokenizer` keeps one spare instance and hands it to one `encode` call at a time (others make their own),
/// so the hot loop needs no locking and no allocation once warmed up.
final class EncodeScratch {
    /// Piece bytes -> `(start << 20) | count` in `cacheIDs`.
    var cache = ByteKeyTable(capacity: 4096)
    var cacheIDs: [Int32] = []
    private(set) var capacity = 0
    private(set) var symbols = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var prev = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var next = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var alive = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private(set) var heapKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private(set) var heapIDs = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    init() { reserve(256) }

    @inline(__always)
    func reserve(_ n: Int) {
        if n > capacity { grow(n) }
    }

    private func grow(_ n: Int) {
        release()
        let size = max(n, capacity * 2, 256)
        capacity = size
        symbols = .allocate(capacity: size)
        prev = .allocate(capacity: size)
        next = .allocate(capacity: size)
        alive = .allocate(capacity: size)
        heapKeys = .allocate(capacity: 3 * size + 4)  // initial pairs + two pushes per merge
        heapIDs = .allocate(capacity: 3 * size + 4)
    }

    private func release() {
        symbols.deallocate()
        prev.deallocate()
        next.deallocate()
        alive.deallocate()
        heapKeys.deallocate()
        heapIDs.deallocate()
    }

    deinit { release() }
}
