import Foundation

/// One merge rule: HF's legacy `"a b"` string (byte-level strings never contain a real space) or `[a, b]`.
enum BPEMerge {
    case joined(String)
    case pair(String, String)

    var parts: (String, String) {
        switch self {
        case .pair(let a, let b): return (a, b)
        case .joined(let s):
            let i = s.utf8.firstIndex(of: 0x20) ?? s.utf8.endIndex
            let j = i < s.utf8.endIndex ? s.utf8.index(after: i) : i
            return (String(s[..<i]), String(s[j...]))
        }
    }
}

/// BPE with integer merges, following HF `tokenizers` `models::bpe` exactly, in one of two alphabets:
///
/// - byte-level (GPT-2, Llama-3, Phi-4): vocabulary strings are GPT-2 byte-level strings; a piece (the UTF-8 bytes
///   of one pre-token) starts as one symbol per byte.
/// - characters (SentencePiece-style, Phi-3, Llama-2): vocabulary strings are plain UTF-8 (spaces as `▁`); a piece
///   starts as one symbol per character; a character missing from the vocabulary becomes its `<0xXX>` byte tokens
///   (`byte_fallback`) or `unk` (fused with a preceding `unk` when `fuse_unk`; as in HF, a pending fused `unk` is
///   emitted only before the next known character, after any byte-fallback tokens in between).
///
/// The adjacent pair with the lowest merge index is merged repeatedly (leftmost on ties). With `ignoreMerges`, a piece
/// that is itself a vocab entry is emitted directly. Ids are `Int32` inside; merges are a
/// `(idA, idB) -> (rank, mergedId)` hash map.
final class BPEModel: @unchecked Sendable {
    /// Vocabulary: raw token bytes (byte-level strings decoded; character strings as UTF-8) -> id.
    let vocab: ByteKeyTable
    /// Vocabulary entries that are not byte-level strings (unreachable by encoding; kept for merges / lookups).
    let otherVocab: [String: Int]
    private let byteToID: [Int32]
    private let merges: PairTable
    /// True when every merged id is produced by exactly one pair; then a linear scan is equivalent to HF's heap.
    private let uniqueOutputs: Bool
    let ignoreMerges: Bool
    private let unkID: Int32
    private let fuseUnk: Bool
    let mergeCount: Int
    /// True for the character alphabet (SentencePiece-style vocabularies).
    let characterMode: Bool
    /// Character mode with `byte_fallback`: the id of `<0xXX>` for each byte (-1 where missing); empty otherwise.
    private let fallbackIDs: [Int32]

    /// - Parameters:
    ///   - vocab: token string (byte-level form, or plain UTF-8 with `byteLevel: false`) and id.
    ///   - merges: pairs of token strings in rank order.
    ///   - byteLevel: false for SentencePiece-style vocabularies (character alphabet).
    ///   - byteFallback: character mode only: unknown characters become `<0xXX>` tokens.
    convenience init(vocab: [(String, Int)], merges: [BPEMerge], ignoreMerges: Bool, unkToken: String?, fuseUnk: Bool,
                     byteLevel: Bool = true, byteFallback: Bool = false, file: String) throws {
        if byteLevel {
            try self.init(byteLevel: vocab, merges: merges, ignoreMerges: ignoreMerges, unkToken: unkToken,
                          fuseUnk: fuseUnk, file: file)
        } else {
            try self.init(characters: vocab, merges: merges, ignoreMerges: ignoreMerges, unkToken: unkToken,
                          fuseUnk: fuseUnk, byteFallback: byteFallback, file: file)
        }
    }

    /// The byte-level model: vocabulary strings are GPT-2 byte-level strings (others are kept in `otherVocab`).
    private init(byteLevel vocab: [(String, Int)], merges: [BPEMerge], ignoreMerges: Bool, unkToken: String?,
                 fuseUnk: Bool, file: String) throws {
        var table = ByteKeyTable(capacity: vocab.count)
        var other: [String: Int] = [:]
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        var maxID = -1
        for (token, id) in vocab {
            guard id >= 0 && id < Tokenizer.maxVocabularySize else {
                throw TokenizerError.invalidField(file: file, field: "model.vocab", detail: "id \(id) of '\(token)' out of range")
            }
            maxID = max(maxID, id)
            if ByteLevel.decode(token, into: &buffer) {
                table.insert(buffer, value: id)
            } else {
                other[token] = id
            }
        }
        var single = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            var byte = UInt8(b)
            let id = table.lookup(&byte, 1)
            if id >= 0 { single[b] = Int32(id) }
        }
        var unk: Int32 = -1
        if let unkToken {
            let id = ByteLevel.decode(unkToken, into: &buffer) ? table.lookup(buffer) : (other[unkToken] ?? -1)
            guard id >= 0 else {
                throw TokenizerError.invalidField(file: file, field: "model.unk_token", detail: "'\(unkToken)' is not in model.vocab")
            }
            unk = Int32(id)
        }
        let (pairs, unique) = try Self.mergeTable(merges, maxID: maxID, file: file) { merge in
            var ia = -1, ib = -1, im = -1
            buffer.removeAll(keepingCapacity: true)
            var split = -1
            var byteLevel = true
            switch merge {
            case .joined(let s):
                for u in s.unicodeScalars {
                    if u.value == 0x20 && split < 0 {
                        split = buffer.count
                        continue
                    }
                    let v = Int(u.value)
                    let b = v < ByteLevel.byteForScalar.count ? ByteLevel.byteForScalar[v] : -1
                    if b < 0 {
                        byteLevel = false
                        break
                    }
                    buffer.append(UInt8(truncatingIfNeeded: b))
                }
            case .pair(let a, let b):
                byteLevel = ByteLevel.append(a, to: &buffer)
                split = buffer.count
                byteLevel = byteLevel && ByteLevel.append(b, to: &buffer)
            }
            if byteLevel && split >= 0 {
                ia = table.lookup(buffer[0..<split])
                ib = table.lookup(buffer[split...])
                im = table.lookup(buffer[...])
            }
            let (a, b) = (ia < 0 || ib < 0 || im < 0) ? merge.parts : ("", "")
            if ia < 0 { ia = ByteLevel.decode(a, into: &buffer) ? table.lookup(buffer) : (other[a] ?? -1) }
            if ib < 0 { ib = ByteLevel.decode(b, into: &buffer) ? table.lookup(buffer) : (other[b] ?? -1) }
            if im < 0 { im = ByteLevel.decode(a + b, into: &buffer) ? table.lookup(buffer) : (other[a + b] ?? -1) }
            return (ia, ib, im)
        }
        self.vocab = table
        self.otherVocab = other
        self.byteToID = single
        self.merges = pairs
        self.uniqueOutputs = unique
        self.ignoreMerges = ignoreMerges
        self.unkID = unk
        self.fuseUnk = fuseUnk
        self.mergeCount = merges.count
        self.characterMode = false
        self.fallbackIDs = []
    }

    /// The character-alphabet model: every vocabulary string is keyed by its UTF-8 bytes.
    private init(characters vocab: [(String, Int)], merges: [BPEMerge], ignoreMerges: Bool, unkToken: String?,
                 fuseUnk: Bool, byteFallback: Bool, file: String) throws {
        var table = ByteKeyTable(capacity: vocab.count)
        var maxID = -1
        for (token, id) in vocab {
            guard id >= 0 && id < Tokenizer.maxVocabularySize else {
                throw TokenizerError.invalidField(file: file, field: "model.vocab", detail: "id \(id) of '\(token)' out of range")
            }
            maxID = max(maxID, id)
            table.insert(Array(token.utf8), value: id)
        }
        var single = [Int32](repeating: -1, count: 256)
        for b in 0..<128 {  // one-byte characters (ASCII); other bytes never start a character on their own
            var byte = UInt8(b)
            let id = table.lookup(&byte, 1)
            if id >= 0 { single[b] = Int32(id) }
        }
        var fallback: [Int32] = []
        if byteFallback {
            fallback = (0..<256).map { b in
                let id = table.lookup(Array(BPEModel.byteTokenName(UInt8(b)).utf8))
                return Int32(id)
            }
        }
        var unk: Int32 = -1
        if let unkToken {
            let id = table.lookup(Array(unkToken.utf8))
            guard id >= 0 else {
                throw TokenizerError.invalidField(file: file, field: "model.unk_token", detail: "'\(unkToken)' is not in model.vocab")
            }
            unk = Int32(id)
        }
        let (pairs, unique) = try Self.mergeTable(merges, maxID: maxID, file: file) { merge in
            let (a, b) = merge.parts
            return (table.lookup(Array(a.utf8)), table.lookup(Array(b.utf8)), table.lookup(Array((a + b).utf8)))
        }
        self.vocab = table
        self.otherVocab = [:]
        self.byteToID = single
        self.merges = pairs
        self.uniqueOutputs = unique
        self.ignoreMerges = ignoreMerges
        self.unkID = unk
        self.fuseUnk = fuseUnk
        self.mergeCount = merges.count
        self.characterMode = true
        self.fallbackIDs = fallback
    }

    /// The merge table of both alphabets: `resolve` gives the ids of a merge's left part, right part and result
    /// (-1 where the vocabulary lacks one). Also reports whether every merged id has exactly one producing pair.
    private static func mergeTable(_ merges: [BPEMerge], maxID: Int, file: String,
                                   resolve: (BPEMerge) -> (Int, Int, Int)) throws -> (PairTable, Bool) {
        var pairs = PairTable(capacity: merges.count)
        var producers = [UInt64](repeating: .max, count: maxID + 1)  // merged id -> the pair producing it
        var unique = true
        for (rank, merge) in merges.enumerated() {
            let (ia, ib, im) = resolve(merge)
            guard ia >= 0, ib >= 0, im >= 0 else {
                let (a, b) = merge.parts
                throw TokenizerError.mergeTokenNotInVocabulary(file: file, index: rank, token: ia < 0 ? a : ib < 0 ? b : a + b)
            }
            pairs.set(Int32(ia), Int32(ib), rank: rank, merged: Int32(im))
            let key = UInt64(ia) << 32 | UInt64(ib)
            if producers[im] != .max && producers[im] != key { unique = false }
            producers[im] = key
        }
        return (pairs, unique)
    }

    /// The SentencePiece byte token for `b`: `<0x0A>` (HF formats `{:#04X}`, llama.cpp `<0x%02X>`: the same).
    static func byteTokenName(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count < 2 ? "0" + hex : hex) + ">"
    }

    /// Id of a byte-level token string (vocab only), or nil.
    func tokenID(_ token: String) -> Int? {
        if characterMode {
            let id = vocab.lookup(Array(token.utf8))
            return id >= 0 ? id : nil
        }
        if let bytes = ByteLevel.bytes(of: token) {
            let id = vocab.lookup(bytes)
            return id >= 0 ? id : nil
        }
        return otherVocab[token]
    }

    /// Appends the ids of one piece.
    @inline(__always)
    func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int], scratch: EncodeScratch) {
        if n == 1 && !characterMode {
            let id = byteToID[Int(p[0])]
            if id >= 0 { out.append(Int(id)) } else if unkID >= 0 { out.append(Int(unkID)) }
            return
        }
        if n == 0 { return }
        if ignoreMerges {
            let id = vocab.lookup(p, n)
            if id >= 0 {
                out.append(id)
                return
            }
        }
        let cached = scratch.cache.lookup(p, n)
        if cached >= 0 {
            let start = cached >> 20
            let count = cached & 0xFFFFF
            for k in start..<(start + count) { out.append(Int(scratch.cacheIDs[k])) }
            return
        }
        let m = characterMode ? initialCharacterSymbols(p, n, scratch) : initialSymbols(p, n, scratch)
        let result: Int
        if m <= 1 {
            result = m
        } else if uniqueOutputs && m <= 256 {
            result = mergeByScan(scratch.symbols, m)
        } else {
            result = mergeWithHeap(scratch, m)
        }
        let start = scratch.cacheIDs.count
        for k in 0..<result { out.append(Int(scratch.symbols[k])) }
        if n <= 256 {
            if scratch.cache.count >= 1 << 16 || start >= 1 << 22 {
                scratch.cache.removeAll()
                scratch.cacheIDs.removeAll(keepingCapacity: true)
            }
            let s = scratch.cacheIDs.count
            for k in 0..<result { scratch.cacheIDs.append(scratch.symbols[k]) }
            scratch.cache.insert(p, n, value: s << 20 | result)
        }
    }

    /// Fills `scratch.symbols` with one id per byte (unknown bytes: unk, fused if asked, or dropped); returns count.
    @inline(__always)
    private func initialSymbols(_ p: UnsafePointer<UInt8>, _ n: Int, _ scratch: EncodeScratch) -> Int {
        scratch.reserve(n)
        let syms = scratch.symbols
        var m = 0
        var lastWasUnk = false
        for i in 0..<n {
            let id = byteToID[Int(p[i])]
            if id >= 0 {
                syms[m] = id
                m += 1
                lastWasUnk = false
            } else if unkID >= 0 {
                if !(fuseUnk && lastWasUnk) {
                    syms[m] = unkID
                    m += 1
                }
                lastWasUnk = true
            }
        }
        return m
    }

    /// Character mode: one id per UTF-8 character (valid UTF-8 assumed: callers pass Swift string bytes); unknown
    /// characters become byte-fallback ids or `unk` exactly as HF `BPE::merge_word` does.
    private func initialCharacterSymbols(_ p: UnsafePointer<UInt8>, _ n: Int, _ scratch: EncodeScratch) -> Int {
        scratch.reserve(n + 1)
        let syms = scratch.symbols
        var m = 0
        var pendingUnk = false  // HF keeps one pending unk (fused or not) and emits it before the next known char
        var i = 0
        while i < n {
            let lead = p[i]
            let len = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4  // a stray continuation byte: 1
            let end = min(i + len, n)
            let id = end - i == 1 ? Int(byteToID[Int(lead)]) : vocab.lookup(p + i, end - i)
            if id >= 0 {
                if pendingUnk {
                    syms[m] = unkID
                    m += 1
                    pendingUnk = false
                }
                syms[m] = Int32(id)
                m += 1
            } else if !fallbackIDs.isEmpty && (i..<end).allSatisfy({ fallbackIDs[Int(p[$0])] >= 0 }) {
                for k in i..<end {
                    syms[m] = fallbackIDs[Int(p[k])]
                    m += 1
                }
            } else if unkID >= 0 {
                if pendingUnk && !fuseUnk {
                    syms[m] = unkID
                    m += 1
                }
                pendingUnk = true
            }
            i = end
        }
        if pendingUnk {
            syms[m] = unkID
            m += 1
        }
        return m
    }

    /// Lowest-rank-leftmost merging by linear scans; equivalent to HF when merge outputs are unique.
    @inline(__always)
    private func mergeByScan(_ syms: UnsafeMutablePointer<Int32>, _ count: Int) -> Int {
        var m = count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: m) { pv in
            for i in 0..<(m - 1) { pv[i] = merges.get(syms[i], syms[i + 1]) }
            while m > 1 {
                var best = PairTable.absent
                var bi = -1
                for i in 0..<(m - 1) where pv[i] < best {
                    best = pv[i]
                    bi = i
                }
                if bi < 0 { break }
                syms[bi] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                var j = bi + 1
                while j < m - 1 {
                    syms[j] = syms[j + 1]
                    j += 1
                }
                j = bi + 1
                while j < m - 2 {
                    pv[j] = pv[j + 1]
                    j += 1
                }
                m -= 1
                if bi > 0 { pv[bi - 1] = merges.get(syms[bi - 1], syms[bi]) }
                if bi < m - 1 { pv[bi] = merges.get(syms[bi], syms[bi + 1]) }
            }
            return m
        }
    }

    /// HF `Word::merge_all` (priority queue on (rank, position), stale entries skipped by merged-id check).
    private func mergeWithHeap(_ scratch: EncodeScratch, _ m: Int) -> Int {
        let c = scratch.symbols
        let prev = scratch.prev, next = scratch.next, alive = scratch.alive
        for i in 0..<m {
            prev[i] = Int32(i - 1)
            next[i] = i + 1 < m ? Int32(i + 1) : -1
            alive[i] = 1
        }
        var heap = MergeHeap(keys: scratch.heapKeys, ids: scratch.heapIDs)
        for i in 0..<(m - 1) {
            let v = merges.get(c[i], c[i + 1])
            if v != PairTable.absent { heap.push(key: (v >> 32) << 32 | UInt64(i), id: Int32(truncatingIfNeeded: v)) }
        }
        while let (key, newID) = heap.pop() {
            let pos = Int(key & 0xFFFF_FFFF)
            if alive[pos] == 0 || next[pos] < 0 { continue }
            let nextPos = Int(next[pos])
            let v = merges.get(c[pos], c[nextPos])
            if v == PairTable.absent || Int32(truncatingIfNeeded: v) != newID { continue }
            c[pos] = newID
            next[pos] = next[nextPos]
            alive[nextPos] = 0
            if next[nextPos] >= 0 { prev[Int(next[nextPos])] = Int32(pos) }
            if prev[pos] >= 0 {
                let p = Int(prev[pos])
                let pv = merges.get(c[p], c[pos])
                if pv != PairTable.absent { heap.push(key: (pv >> 32) << 32 | UInt64(p), id: Int32(truncatingIfNeeded: pv)) }
            }
            if next[pos] >= 0 {
                let nv = merges.get(c[pos], c[Int(next[pos])])
                if nv != PairTable.absent { heap.push(key: (nv >> 32) << 32 | UInt64(pos), id: Int32(truncatingIfNeeded: nv)) }
            }
        }
        var out = 0
        for i in 0..<m where alive[i] != 0 {
            c[out] = c[i]
            out += 1
        }
        return out
    }

    /// Test hook: merge a byte sequence with both algorithms (scan only if allowed).
    func debugMerge(_ bytes: [UInt8], useHeap: Bool) -> [Int] {
        let scratch = EncodeScratch()
        return bytes.withUnsafeBufferPointer { b -> [Int] in
            guard let base = b.baseAddress else { return [] }
            let m = initialSymbols(base, b.count, scratch)
            let r = m <= 1 ? m : (useHeap ? mergeWithHeap(scratch, m) : mergeByScan(scratch.symbols, m))
            return (0..<r).map { Int(scratch.symbols[$0]) }
        }
    }
}

/// Binary min-heap of merge candidates keyed by `(rank << 32) | position`, storage owned by `EncodeScratch`.
struct MergeHeap {
    private let keys: UnsafeMutablePointer<UInt64>
    private let ids: UnsafeMutablePointer<Int32>
    private var count = 0

    init(keys: UnsafeMutablePointer<UInt64>, ids: UnsafeMutablePointer<Int32>) {
        self.keys = keys
        self.ids = ids
    }

    mutating func push(key: UInt64, id: Int32) {
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if keys[parent] <= key { break }
            keys[i] = keys[parent]
            ids[i] = ids[parent]
            i = parent
        }
        keys[i] = key
        ids[i] = id
    }

    mutating func pop() -> (UInt64, Int32)? {
        guard count > 0 else { return nil }
        let top = (keys[0], ids[0])
        count -= 1
        if count > 0 {
            let key = keys[count], id = ids[count]
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= count { break }
                var child = l
                if l + 1 < count && keys[l + 1] < keys[l] { child = l + 1 }
                if keys[child] >= key { break }
                keys[i] = keys[child]
                ids[i] = ids[child]
                i = child
            }
            keys[i] = key
            ids[i] = id
        }
        return top
    }
}
