/// SentencePiece BPE by scores, as llama.cpp's SPM tokenizer (`llm_tokenizer_spm`) runs GGUF vocabularies with
/// `tokenizer.ggml.model == "llama"` (Llama-2, Phi-3, Mistral v0.1 files).
///
/// The text (already prefixed and with spaces as `▁`, see `TextNormalizer.sentencePiece`) starts as one symbol per
/// UTF-8 character. Every adjacent pair whose concatenation is a vocabulary token is a candidate; the candidate
/// with the highest token score is merged first (leftmost on equal scores), its neighbours become new candidates,
/// and so on. A final symbol that is a token is emitted; any other (a character missing from the vocabulary) is
/// emitted as its `<0xXX>` byte tokens. (llama.cpp's `rev_merge` re-segmentation never triggers for valid UTF-8:
/// merged symbols are always tokens, and an unmerged character cannot be the text of a merged pair.)
final class SentencePieceModel: @unchecked Sendable {
    /// Token text (UTF-8) -> id, over the whole vocabulary as llama.cpp's `token_to_id`.
    private let ids: ByteKeyTable
    private let scores: [Float]
    /// Byte -> `<0xXX>` id, else the id of the one-byte token, else `unknownID` (llama.cpp would throw there).
    private let byteIDs: [Int32]

    /// - Parameters:
    ///   - tokens: the vocabulary; the index is the id. Duplicates are rejected (as llama.cpp does).
    ///   - scores: one per token (nil: all 0). NaN is rejected: it has no order.
    ///   - unknownID: used for a byte that has neither a `<0xXX>` nor a one-byte token.
    init(tokens: [String], scores: [Float]?, unknownID: Int?, file: String) throws {
        if let scores, scores.count != tokens.count {
            throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.scores",
                                              detail: "\(scores.count) scores for \(tokens.count) tokens")
        }
        var table = ByteKeyTable(capacity: tokens.count)
        for (id, token) in tokens.enumerated() {
            let key = Array(token.utf8)
            let existing = table.lookup(key)
            guard existing < 0 else {
                throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.tokens",
                                                  detail: "duplicate token '\(token.prefix(40))' at ids \(existing) and \(id)")
            }
            table.insert(key, value: id)
        }
        let s = scores ?? [Float](repeating: 0, count: tokens.count)
        if let bad = s.firstIndex(where: { $0.isNaN }) {
            throw TokenizerError.invalidField(file: file, field: "tokenizer.ggml.scores", detail: "score of token \(bad) is NaN")
        }
        var bytes = [Int32](repeating: Int32(unknownID ?? -1), count: 256)
        for b in 0..<256 {
            var id = table.lookup(Array(BPEModel.byteTokenName(UInt8(b)).utf8))
            if id < 0 {
                var byte = UInt8(b)
                id = table.lookup(&byte, 1)
            }
            if id >= 0 { bytes[b] = Int32(id) }
        }
        ids = table
        self.scores = s
        byteIDs = bytes
    }

    /// Id of a token text, or nil.
    func tokenID(_ token: String) -> Int? {
        let id = ids.lookup(Array(token.utf8))
        return id >= 0 ? id : nil
    }

    /// Appends the ids of the `n` bytes at `p` (valid UTF-8).
    func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        guard n > 0 else { return }
        // Symbols: start offset, length (0 once merged away), and the doubly linked list of live symbols.
        var start: [Int] = []
        var length: [Int] = []
        start.reserveCapacity(n)
        length.reserveCapacity(n)
        var i = 0
        while i < n {
            let lead = p[i]
            let len = lead < 0x80 ? 1 : lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4  // unicode_len_utf8
            let l = min(len, n - i)
            start.append(i)
            length.append(l)
            i += l
        }
        let count = start.count
        var prev = (0..<count).map { $0 - 1 }
        var next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
        var heap = BigramHeap()
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0 && right >= 0 else { return }
            let size = length[left] + length[right]
            let id = ids.lookup(p + start[left], size)
            guard id >= 0 else { return }
            heap.push(BigramHeap.Entry(score: scores[id], left: Int32(left), right: Int32(right), size: Int32(size)))
        }
        for k in 1..<max(count, 1) { tryAdd(k - 1, k) }
        while let b = heap.pop() {
            let left = Int(b.left), right = Int(b.right)
            if length[left] == 0 || length[right] == 0 || length[left] + length[right] != Int(b.size) { continue }
            length[left] += length[right]
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { prev[next[right]] = left }
            tryAdd(prev[left], left)
            tryAdd(left, next[left])
        }
        var k = 0
        while k != -1 {
            let id = ids.lookup(p + start[k], length[k])
            if id >= 0 {
                out.append(id)
            } else {
                for j in start[k]..<(start[k] + length[k]) {
                    let b = byteIDs[Int(p[j])]
                    if b >= 0 { out.append(Int(b)) }
                }
            }
            k = next[k]
        }
    }
}

/// Max-heap of merge candidates in llama.cpp's order: higher score first, then the lower left index.
struct BigramHeap {
    struct Entry {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// True when `self` comes out before `other`.
        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    private var items: [Entry] = []

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].precedes(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && items[l].precedes(items[best]) { best = l }
                if r < items.count && items[r].precedes(items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}
