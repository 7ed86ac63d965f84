import PhiKernels

extension TransformerDecoder {
    /// Runs several sequences in one pass: each item's tokens after what its own cache holds (caches may differ
    /// in length and position, and each item brings its own conditioning and LoRA). The projections and the
    /// output head read every weight once for the rows of all items; rotary (with the LongRoPE factors each
    /// sequence's own length decides, as `forward` decides them) and attention run per sequence over its cache.
    /// Returns each item's logits as `forward` would ([] for `.none`). Everything is validated before any cache
    /// changes, so a thrown error leaves every cache as it was.
    ///
    /// Items that cannot share the pass run alone through `forward`, with the same results: one whose LongRoPE
    /// regime switches (its whole sequence is recomputed) and one longer than `prefillChunk`.
    public func forward(batch items: [BatchItem]) throws -> [[Float]] {
        var seen = Set<ObjectIdentifier>()
        for (i, item) in items.enumerated() {
            try validate(item.tokens, cache: item.cache)
            guard seen.insert(ObjectIdentifier(item.cache)).inserted else { throw DecoderError.sharedCache(item: i) }
        }
        var results = [[Float]](repeating: [], count: items.count)
        var together: [Int] = []
        for (i, item) in items.enumerated() where !item.tokens.isEmpty {
            let cache = item.cache
            let long = rotary.usesLongFactors(lastPosition: cache.count + item.tokens.count - 1)
            let switches = cache.count > 0 && cache.longFactors != long
            if switches || item.tokens.count > prefillChunk {
                results[i] = try forward(item.tokens, cache: cache, logits: item.logits, tap: nil,
                                         conditioning: item.conditioning)
            } else {
                together.append(i)
            }
        }
        if together.count == 1, let i = together.first {
            // Alone, the single-sequence pass is the same computation (and skips the last layer's unused rows).
            let item = items[i]
            results[i] = try forward(item.tokens, cache: item.cache, logits: item.logits, tap: nil,
                                     conditioning: item.conditioning)
        } else if !together.isEmpty {
            let logits = try runBatch(together.map { items[$0] })
            for (k, i) in together.enumerated() { results[i] = logits[k] }
        }
        return results
    }

    /// One pass over the rows of all `items` (validated, none switching rope regime); commits them to their caches.
    private func runBatch(_ items: [BatchItem]) throws -> [[Float]] {
        let H = hiddenSize
        // Row layout: item k owns rows starts[k] ..< starts[k] + items[k].tokens.count.
        var starts: [Int] = []
        var R = 0
        for item in items {
            starts.append(R)
            let (sum, overflow) = R.addingReportingOverflow(item.tokens.count)
            guard !overflow else { throw DecoderError.sizeOverflow(what: "a batch of \(items.count) sequences") }
            R = sum
        }
        // Everything that can fail does so before any cache changes: sizes, then cache room for every item.
        _ = try logitCount(rows: R)
        for item in items { try item.cache.reserve(item.cache.count + item.tokens.count) }
        let scratch = try Scratch(rows: R, hidden: H, widths: scratchWidths)
        defer { scratch.deallocate() }
        let x = scratch.x, h = scratch.h, qkv = scratch.qkv, attn = scratch.attn, gu = scratch.gu, m = scratch.m

        // Per sequence: its rope regime and tables, its cache made ready, its embeddings (with spliced features).
        var tables: [(cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>)] = []
        defer { tables.forEach { $0.cos.deallocate(); $0.sin.deallocate() } }
        var longs: [Bool] = []
        for (k, item) in items.enumerated() {
            let cache = item.cache, T = item.tokens.count
            let long = rotary.usesLongFactors(lastPosition: cache.count + T - 1)
            longs.append(long)
            cache.conditioningID = item.conditioning.map { ObjectIdentifier($0) }
            let (c, s) = rotary.tables(start: cache.count, count: T, long: long)
            let cp = UnsafeMutablePointer<Float>.allocate(capacity: c.count)
            let sp = UnsafeMutablePointer<Float>.allocate(capacity: s.count)
            cp.initialize(from: c, count: c.count)
            sp.initialize(from: s, count: s.count)
            tables.append((cp, sp))
            embedding.lookup(item.tokens, into: x + starts[k] * H)
            item.conditioning?.apply(start: cache.count, count: T, to: x + starts[k] * H)
        }
        let prof = Profiler.shared
        for (l, b) in blocks.enumerated() {
            var adapters: [AdapterRows] = []
            for (k, item) in items.enumerated() {
                if let layers = item.conditioning?.adapter?.layers, l < layers.count {
                    adapters.append(AdapterRows(start: starts[k], count: item.tokens.count, lora: layers[l]))
                }
            }
            let a = b.attention, width = a.qkvWidth, aw = a.attentionWidth, out = a.output.outFeatures
            prof.measure("norm") { b.inputNorm(x, rows: R, into: h, parallel: parallel) }
            prof.measure("qkv") {
                a.project(h, rows: R, into: qkv, parallel: parallel)
                for r in adapters {
                    r.lora.qkv?.add(h + r.start * H, rows: r.count, into: qkv + r.start * width, ldy: width, parallel: parallel)
                }
            }
            for (k, item) in items.enumerated() {
                a.attend(qkv + starts[k] * width, rows: item.tokens.count, layer: l, cache: item.cache,
                         cos: tables[k].cos, sin: tables[k].sin, rotary: rotary, attn: attn + starts[k] * aw,
                         parallel: parallel)
            }
            prof.measure("o_proj") {
                a.output(attn, rows: R, into: h, parallel: parallel)
                a.outputBias?.add(into: h, rows: R)
                for r in adapters {
                    r.lora.o?.add(attn + r.start * aw, rows: r.count, into: h + r.start * out, parallel: parallel)
                }
            }
            Kernels.add(h, into: x, count: R * H)
            prof.measure("norm") { b.postAttentionNorm(x, rows: R, into: h, parallel: parallel) }
            b.feedForward(h, rows: R, gu: gu, m: m, into: h, adapters: adapters, parallel: parallel)
            Kernels.add(h, into: x, count: R * H)
        }
        for (k, item) in items.enumerated() { item.cache.commit(tokens: item.tokens, longFactors: longs[k]) }

        // The wanted rows of every item, gathered so the output head reads its weight once for all of them.
        var wanted: [Range<Int>] = []
        var G = 0
        for (k, item) in items.enumerated() {
            let T = item.tokens.count
            switch item.logits {
            case .none: wanted.append(0..<0)
            case .last: wanted.append((starts[k] + T - 1)..<(starts[k] + T))
            case .all: wanted.append(starts[k]..<(starts[k] + T))
            }
            G += wanted[k].count
        }
        guard G > 0 else { return items.map { _ in [] } }
        var g = 0
        for rows in wanted where !rows.isEmpty {
            finalNorm(x + rows.lowerBound * H, rows: rows.count, into: h + g * H)
            g += rows.count
        }
        let V = vocabularySize
        let all = UnsafeMutablePointer<Float>.allocate(capacity: try logitCount(rows: G))
        defer { all.deallocate() }
        prof.measure("lm_head") { lmHead(h, rows: G, into: all, parallel: parallel) }
        var results: [[Float]] = []
        g = 0
        for rows in wanted {
            results.append(Array(UnsafeBufferPointer(start: all + g * V, count: rows.count * V)))
            g += rows.count
        }
        return results
    }
}
