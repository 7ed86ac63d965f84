import Foundation
import PhiKernels
import PhiNN

/// Prefix-cache states evicted from memory, kept as files in a directory up to a byte budget (least recently
/// used removed first). Each engine writes its own files (a random instance name) and removes them when it
/// shuts down. The index — tokens, media key and size of every file — stays in memory, so a lookup reads a
/// file only on a hit; a file that fails validation is deleted and counts as a miss.
/// Not thread-safe: the engine's thread owns it.
final class PrefixSpill {
    struct Entry {
        var path: String
        var tokens: [Int]
        var mediaKey: String?
        var bytes: Int
        var lastUse: UInt64
    }

    let directory: URL
    let budgetBytes: Int
    /// Shape every file must have: the model's cache.
    let layers: Int, kvHeads: Int, headDim: Int
    /// The adapters conditioning may use; file code n is adapters[n - 1], 0 is none.
    let adapters: [LoRAAdapter]
    private(set) var entries: [Entry] = []
    private var clock: UInt64 = 0
    private var serial = 0
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    /// Files written, read back, and refused as corrupt (for tests and stats).
    private(set) var writes = 0, reads = 0, rejected = 0

    init(directory: URL, budgetBytes: Int, layers: Int, kvHeads: Int, headDim: Int, adapters: [LoRAAdapter]) {
        self.directory = directory
        self.budgetBytes = max(0, budgetBytes)
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.adapters = adapters
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { removeAll() }

    var bytes: Int { entries.reduce(0) { $0 + $1.bytes } }

    /// Writes an evicted state; silently keeps nothing when it does not fit the budget, its adapter is unknown
    /// or the write fails (the spill is an optimization, never a reason to fail a request).
    func spill(cache: KVCache, mediaKey: String?, conditioning: Conditioning?) {
        var code = 0
        if let a = conditioning?.adapter {
            guard let i = adapters.firstIndex(where: { $0 === a }) else { return }
            code = i + 1
        }
        // The K/V payload alone, checked before the file is built in memory.
        guard (cache.layers * 2 * cache.kvHeads * cache.headDim * 4).clampedProduct(cache.count) <= budgetBytes else { return }
        let data = PrefixSpillFile.encode(cache: cache, mediaKey: mediaKey, conditioning: conditioning, adapterCode: code)
        guard data.count <= budgetBytes else { return }
        let tokens = cache.tokens
        // A file this state extends is redundant.
        for e in entries where e.mediaKey == mediaKey && e.tokens.count <= tokens.count && Array(tokens.prefix(e.tokens.count)) == e.tokens {
            remove(path: e.path)
        }
        while bytes + data.count > budgetBytes, let oldest = entries.min(by: { $0.lastUse < $1.lastUse }) {
            remove(path: oldest.path)
        }
        serial += 1
        let url = directory.appendingPathComponent("phikit-\(instance)-\(serial).phikv")
        let temp = directory.appendingPathComponent(".phikit-\(instance)-\(serial).tmp")
        do {
            try data.write(to: temp)
            try FileManager.default.moveItem(at: temp, to: url)  // complete files only, under their final name
        } catch {
            try? FileManager.default.removeItem(at: temp)
            return
        }
        clock += 1
        writes += 1
        entries.append(Entry(path: url.path, tokens: tokens, mediaKey: mediaKey, bytes: data.count, lastUse: clock))
    }

    /// The longest prefix of `prompt` a file holds under the same media: (entry index, length).
    func bestMatch(prompt: [Int], mediaKey: String?) -> (index: Int, length: Int)? {
        var best: (Int, Int)?
        for (i, e) in entries.enumerated() where e.mediaKey == mediaKey {
            var n = 0
            while n < e.tokens.count && n < prompt.count && e.tokens[n] == prompt[n] { n += 1 }
            if n > (best?.1 ?? 0) { best = (i, n) }
        }
        return best
    }

    /// Reads entry `index` back as a new cache of its first `length` positions with room for `maxLength`, and
    /// the conditioning it was computed with; nil (and the file deleted) when the file does not validate.
    func load(index: Int, length: Int, maxLength: Int) -> (cache: KVCache, conditioning: Conditioning?)? {
        guard entries.indices.contains(index) else { return nil }
        let e = entries[index]
        do {
            let data = try SafeFile.read(path: e.path, limit: budgetBytes)
            let d = try PrefixSpillFile.decode(data)
            let h = d.header
            guard h.layers == layers, h.kvHeads == kvHeads, h.headDim == headDim, h.tokens == e.tokens,
                  h.mediaKey == e.mediaKey, h.adapter <= adapters.count else {
                throw PrefixSpillFile.Failure.corrupt("the file does not match its index entry")
            }
            var conditioning: Conditioning?
            if let c = d.conditioning {
                conditioning = try Conditioning(adapter: h.adapter == 0 ? nil : adapters[h.adapter - 1],
                                                positions: c.positions, rows: c.rows, width: c.width)
            } else if h.adapter != 0 {
                throw PrefixSpillFile.Failure.corrupt("an adapter without conditioning")
            }
            let cache = try PrefixSpillFile.restore(data, d, length: length, maxLength: maxLength)
            cache.assignConditioning(conditioning)
            clock += 1
            entries[index].lastUse = clock
            reads += 1
            return (cache, conditioning)
        } catch {
            rejected += 1
            remove(path: e.path)
            return nil
        }
    }

    private func remove(path: String) {
        entries.removeAll { $0.path == path }
        try? FileManager.default.removeItem(atPath: path)
    }

    func removeAll() {
        for e in entries { try? FileManager.default.removeItem(atPath: e.path) }
        entries.removeAll()
    }
}
