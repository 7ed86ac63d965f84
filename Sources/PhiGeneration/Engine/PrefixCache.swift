import PhiNN

/// Recent KV states keyed by their tokens and media, so a shared system prompt, a tool list or the earlier turns
/// of a conversation are computed once. A hit hands out a copy of the longest matching prefix; the stored state
/// is never written to. Least recently used entries go first when the byte budget is exceeded (or when the engine
/// needs the memory for a new request); with a spill store they go to disk and a later miss in memory looks there.
/// Not thread-safe: the engine's thread owns it.
final class PrefixCache {
    struct Entry {
        var cache: KVCache
        var mediaKey: String?
        var conditioning: Conditioning?
        var lastUse: UInt64
    }

    let budgetBytes: Int
    /// Shortest prefix worth a copy.
    let minimumTokens: Int
    private(set) var entries: [Entry] = []
    private var clock: UInt64 = 0
    private(set) var hits = 0
    private(set) var misses = 0

    /// Where evicted entries go (nil: they are dropped).
    let spill: PrefixSpill?
    /// Hits served from the spill directory.
    private(set) var diskHits = 0

    init(budgetBytes: Int, minimumTokens: Int = 4, spill: PrefixSpill? = nil) {
        self.budgetBytes = max(0, budgetBytes)
        self.minimumTokens = max(1, minimumTokens)
        self.spill = spill
    }

    var bytes: Int { entries.reduce(0) { $0 + $1.cache.memoryBytes } }

    /// A private cache holding the longest cached prefix of `prompt` (under the same media), with the
    /// conditioning it was computed with; nil on a miss.
    func lookup(prompt: [Int], mediaKey: String?, maxLength: Int) -> (cache: KVCache, conditioning: Conditioning?)? {
        var best = -1, bestLength = 0
        for (i, e) in entries.enumerated() where e.mediaKey == mediaKey {
            let t = e.cache.tokens
            var n = 0
            while n < t.count && n < prompt.count && t[n] == prompt[n] { n += 1 }
            if n > bestLength { best = i; bestLength = n }
        }
        // A longer prefix on disk is worth reading back (a corrupt file is a miss there).
        if let spill, let d = spill.bestMatch(prompt: prompt, mediaKey: mediaKey), d.length > bestLength,
           d.length >= minimumTokens, let loaded = spill.load(index: d.index, length: d.length, maxLength: maxLength) {
            hits += 1
            diskHits += 1
            return loaded
        }
        guard best >= 0, bestLength >= minimumTokens else { misses += 1; return nil }
        hits += 1
        clock += 1
        entries[best].lastUse = clock
        let e = entries[best]
        return (e.cache.copy(prefix: bestLength, maxLength: maxLength), e.conditioning)
    }

    /// Keeps a finished sequence's state (the cache is owned by the prefix cache from now on). Entries that
    /// the new one extends are dropped.
    func insert(_ cache: KVCache, mediaKey: String?, conditioning: Conditioning?) {
        guard cache.count >= minimumTokens, budgetBytes > 0 else { return }
        // Trim the doubling slack so the budget holds state, not empty capacity.
        let kept = cache.capacity > cache.count + cache.count / 4 ? cache.copy(prefix: cache.count, maxLength: cache.maxLength) : cache
        guard kept.memoryBytes <= budgetBytes else {
            spill?.spill(cache: kept, mediaKey: mediaKey, conditioning: conditioning)
            return
        }
        let tokens = kept.tokens
        entries.removeAll { e in
            e.mediaKey == mediaKey && e.cache.count <= tokens.count && Array(tokens.prefix(e.cache.count)) == e.cache.tokens
        }
        clock += 1
        entries.append(Entry(cache: kept, mediaKey: mediaKey, conditioning: conditioning, lastUse: clock))
        shrink(to: budgetBytes)
    }

    /// Evicts least recently used entries (to the spill store when there is one) until at most `limit` bytes
    /// are held.
    func shrink(to limit: Int) {
        while bytes > max(0, limit), let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
            let e = entries.remove(at: oldest)
            spill?.spill(cache: e.cache, mediaKey: e.mediaKey, conditioning: e.conditioning)
        }
    }

    func removeAll() {
        entries.removeAll()
        spill?.removeAll()
    }
}
