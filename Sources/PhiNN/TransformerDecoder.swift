import PhiKernels

/// Which logits a forward pass returns.
public enum LogitsRequest: Sendable {
    case none
    case last
    case all
}

/// Called at block boundaries with a layer's activations [rows, cols] so a mismatch can be bisected
/// against the reference layer by layer. Names: "embeddings", "layer" (output of block `layer`), "final_norm".
public typealias ActivationTap = (_ name: String, _ layer: Int, _ values: UnsafeBufferPointer<Float>, _ rows: Int, _ cols: Int) -> Void

/// One pre-norm decoder block: x += attention(norm(x)); x += feedForward(norm(x)).
public struct DecoderBlock: @unchecked Sendable {
    public let inputNorm: Norm
    public let attention: Attention
    public let postAttentionNorm: Norm
    public let feedForward: FeedForward

    public init(inputNorm: Norm, attention: Attention, postAttentionNorm: Norm, feedForward: FeedForward) {
        self.inputNorm = inputNorm
        self.attention = attention
        self.postAttentionNorm = postAttentionNorm
        self.feedForward = feedForward
    }
}

public enum DecoderError: Error, CustomStringConvertible {
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    case contextOverflow(requested: Int, limit: Int)
    /// Two items of one batched pass name the same cache (each sequence writes its own).
    case sharedCache(item: Int)
    /// A buffer the pass needs (`what`) has more elements than Int can count.
    case sizeOverflow(what: String)

    public var description: String {
        switch self {
        case .tokenOutOfRange(let id, let v): return "token id \(id) is outside the vocabulary (size \(v))"
        case .contextOverflow(let r, let l):
            return "the sequence needs \(r) positions but the model's context limit is \(l) tokens"
        case .sharedCache(let i): return "batch item \(i) uses a KV cache an earlier item of the same batch uses"
        case .sizeOverflow(let what): return "\(what) is too large to allocate (its size overflows)"
        }
    }
}

/// The decoder-only transformer forward pass shared by every architecture of the registry (Phi-3, Llama):
/// embeddings → blocks (norm, GQA attention with rotary, residual, norm, gated MLP, residual) →
/// final norm → output head. What differs between architectures (norm kind, activation, biases, fused or
/// separate projections) is in the blocks' parts, not in this loop. Weights are immutable; per-sequence state lives in the KVCache.
public final class TransformerDecoder: @unchecked Sendable {
    public let embedding: Embedding
    public let blocks: [DecoderBlock]
    public let finalNorm: Norm
    public let lmHead: Linear
    public let rotary: RotaryEmbedding
    public let contextLength: Int
    public let parallel: Parallel
    /// Longest chunk of a prompt processed in one batched pass; bounds scratch memory at long context.
    public var prefillChunk = 512

    public var vocabularySize: Int { lmHead.outFeatures }

    /// Bytes of weights one generated token reads: every matrix once, plus one embedding row (norms and the
    /// KV cache are comparatively tiny). Memory bandwidth ÷ this bounds tokens per second.
    public var weightBytesPerToken: Int {
        var total = lmHead.storedBytes + embedding.table.rowBytes
        for b in blocks {
            switch b.attention.projection {
            case .fused(let l): total += l.storedBytes
            case .separate(let q, let k, let v): total += q.storedBytes + k.storedBytes + v.storedBytes
            }
            total += b.attention.output.storedBytes + b.feedForward.storedBytes
        }
        return total
    }
    public var hiddenSize: Int { embedding.dim }

    /// Floats per row of each forward-pass scratch buffer: the widest block's (every width checked at init).
    struct ScratchWidths {
        var qkv = 0, attention = 0, gateUp = 0, intermediate = 0
    }
    let scratchWidths: ScratchWidths

    /// Throws unless the parts fit one another: every matrix takes and gives `hidden` where the residual stream
    /// flows, all blocks share one KV layout (the cache assumes it), the rotary dims are even and within a head,
    /// the output head covers the embedding's vocabulary, and the KV cache of `contextLength` positions has a
    /// size Int can count. Whatever a config declared, nothing is allocated from a size that was not checked.
    public init(embedding: Embedding, blocks: [DecoderBlock], finalNorm: Norm, lmHead: Linear,
                rotary: RotaryEmbedding, contextLength: Int, parallel: Parallel) throws {
        let H = embedding.dim
        func bad(_ r: String) -> NNError { .invalidInput("decoder: " + r) }
        guard H > 0, embedding.count > 0 else { throw bad("the embedding table is empty") }
        guard lmHead.inFeatures == H, lmHead.outFeatures == embedding.count else {
            throw bad("the output head is [\(lmHead.outFeatures), \(lmHead.inFeatures)] but the embedding is [\(embedding.count), \(H)]")
        }
        guard finalNorm.size == H else { throw bad("the final norm has \(finalNorm.size) weights for hidden size \(H)") }
        guard let first = blocks.first?.attention else { throw bad("no blocks") }
        var widths = ScratchWidths()
        for (l, b) in blocks.enumerated() {
            let a = b.attention, f = b.feedForward
            guard a.output.outFeatures == H, a.kvHeads == first.kvHeads, a.headDim == first.headDim,
                  b.inputNorm.size == H, b.postAttentionNorm.size == H else {
                throw bad("block \(l) does not fit hidden size \(H) and \(first.kvHeads) kv heads of \(first.headDim)")
            }
            let I = f.intermediateSize
            let (gateUp, overflow) = I.multipliedReportingOverflow(by: 2)
            let ffFits: Bool
            switch f.projection {
            case .fused(let gu): ffFits = !overflow && gu.outFeatures == gateUp && gu.inFeatures == H
            case .separate(let g, let u):
                ffFits = g.outFeatures == I && u.outFeatures == I && g.inFeatures == H && u.inFeatures == H
            }
            guard ffFits, f.down.outFeatures == H, I > 0 else {
                throw bad("block \(l)'s MLP does not fit hidden size \(H) and intermediate size \(I)")
            }
            if let bias = f.gateUpBias, bias.count != gateUp { throw bad("block \(l)'s gate/up bias has \(bias.count) values for \(gateUp)") }
            if let bias = f.downBias, bias.count != H { throw bad("block \(l)'s down bias has \(bias.count) values for \(H)") }
            widths.qkv = max(widths.qkv, a.qkvWidth)
            widths.attention = max(widths.attention, a.attentionWidth, H)
            widths.gateUp = max(widths.gateUp, gateUp)
            widths.intermediate = max(widths.intermediate, I)
        }
        let r = rotary.rotaryDim
        guard r >= 2, r % 2 == 0, r <= first.headDim,
              rotary.invFreqShort.count == r / 2, rotary.invFreqLong.count == r / 2 else {
            throw bad("rotary embedding of \(r) dims (\(rotary.invFreqShort.count)/\(rotary.invFreqLong.count) frequencies) does not fit heads of \(first.headDim) (even, at most head size)")
        }
        // The KV cache may grow to twice the context (capacity doubles) and starts at up to 256 positions.
        guard contextLength > 0 else { throw bad("the context length must be positive, got \(contextLength)") }
        guard KVCache.byteCount(layers: blocks.count, kvHeads: first.kvHeads, headDim: first.headDim,
                                capacity: max(contextLength, 256), factor: 2) != nil else {
            throw bad("a KV cache of \(contextLength) positions × \(blocks.count) layers × \(first.kvHeads) kv heads × \(first.headDim) overflows")
        }
        self.embedding = embedding
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        self.rotary = rotary
        self.contextLength = contextLength
        self.parallel = parallel
        scratchWidths = widths
    }

    /// Scratch for `rows` rows: [rows, hidden] ×2, [rows, qkv], [rows, attention], [rows, 2I], [rows, I], each size
    /// with overflow reported (rows come from the caller: a prompt chunk or a whole batch).
    struct Scratch {
        let x, h, qkv, attn, gu, m: UnsafeMutablePointer<Float>

        init(rows: Int, hidden: Int, widths w: ScratchWidths) throws {
            func count(_ width: Int, _ name: String) throws -> Int {
                let (n, o) = rows.multipliedReportingOverflow(by: width)
                guard !o else { throw DecoderError.sizeOverflow(what: "the \(name) scratch of \(rows) rows × \(width)") }
                return n
            }
            let sizes = [try count(hidden, "hidden"), try count(hidden, "hidden"), try count(w.qkv, "q/k/v"),
                         try count(w.attention, "attention"), try count(w.gateUp, "gate/up"), try count(w.intermediate, "MLP")]
            x = .allocate(capacity: sizes[0])
            h = .allocate(capacity: sizes[1])
            qkv = .allocate(capacity: sizes[2])
            attn = .allocate(capacity: sizes[3])
            gu = .allocate(capacity: sizes[4])
            m = .allocate(capacity: sizes[5])
        }

        func deallocate() { [x, h, qkv, attn, gu, m].forEach { $0.deallocate() } }
    }

    /// `rows` × `vocabularySize` logits, counted with overflow reported.
    func logitCount(rows: Int) throws -> Int {
        let (n, o) = rows.multipliedReportingOverflow(by: vocabularySize)
        guard !o else { throw DecoderError.sizeOverflow(what: "\(rows) rows of logits") }
        return n
    }

    public func makeCache(maxLength: Int? = nil) -> KVCache {
        let a = blocks.first?.attention
        return KVCache(layers: blocks.count, kvHeads: a?.kvHeads ?? 1, headDim: a?.headDim ?? 1,
                       maxLength: min(maxLength ?? contextLength, contextLength))
    }

    /// Runs `tokens` after what `cache` holds. `conditioning` (multimodal prompts) selects a LoRA adapter and
    /// replaces placeholder embeddings; pass the same object for every step of a sequence.
    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest, tap: ActivationTap?,
                        conditioning: Conditioning? = nil) throws -> [Float] {
        try validate(tokens, cache: cache)
        let total = cache.count + tokens.count
        guard !tokens.isEmpty else { return [] }
        // LongRoPE: the factors depend on the whole sequence length. When this step crosses the original
        // context, keys cached with the short factors are stale: recompute the whole sequence with the long
        // ones (transformers drops its cache at this point too), so every step equals a cache-free pass.
        // (A cache truncated back below the boundary is rebuilt with the short factors the same way.)
        var input = tokens
        let long = rotary.usesLongFactors(lastPosition: total - 1)
        if cache.count > 0 && cache.longFactors != long {
            input = cache.tokens + tokens
            cache.reset()
        }
        cache.conditioningID = conditioning.map { ObjectIdentifier($0) }
        try cache.reserve(cache.count + input.count)
        let firstWanted = input.count - tokens.count
        var out: [Float] = []
        var start = 0
        while start < input.count {
            let end = min(input.count, start + prefillChunk)
            var want: Range<Int>? = nil
            switch logits {
            case .none: want = nil
            case .last: want = end == input.count ? (end - start - 1)..<(end - start) : nil
            case .all:
                let lo = max(firstWanted, start)
                want = lo < end ? (lo - start)..<(end - start) : nil
            }
            out += try runChunk(Array(input[start..<end]), cache: cache, long: long, logitRows: want, tap: tap,
                            conditioning: conditioning)
            start = end
        }
        return out
    }

    /// Throws unless every token is in the vocabulary and the cache has room for them all.
    func validate(_ tokens: [Int], cache: KVCache) throws {
        let vocab = embedding.count
        for id in tokens where id < 0 || id >= vocab {
            throw DecoderError.tokenOutOfRange(id: id, vocabularySize: vocab)
        }
        let total = cache.count + tokens.count
        guard total <= min(contextLength, cache.maxLength) else {
            throw DecoderError.contextOverflow(requested: total, limit: min(contextLength, cache.maxLength))
        }
    }

    /// One batched pass over `ids` (positions cache.count ..< cache.count+T); commits them to the cache.
    private func runChunk(_ ids: [Int], cache: KVCache, long: Bool, logitRows: Range<Int>?, tap: ActivationTap?,
                          conditioning: Conditioning?) throws -> [Float] {
        let T = ids.count, H = hiddenSize
        _ = try logitCount(rows: T)  // before the cache changes
        let scratch = try Scratch(rows: T, hidden: H, widths: scratchWidths)
        defer { scratch.deallocate() }
        let x = scratch.x, h = scratch.h, qkv = scratch.qkv, attn = scratch.attn, gu = scratch.gu, m = scratch.m

        embedding.lookup(ids, into: x)
        conditioning?.apply(start: cache.count, count: T, to: x)
        let adapters = conditioning?.adapter?.layers
        tap?("embeddings", -1, UnsafeBufferPointer(start: x, count: T * H), T, H)
        let (cosT, sinT) = rotary.tables(start: cache.count, count: T, long: long)
        let prof = Profiler.shared
        cosT.withUnsafeBufferPointer { cosB in
            sinT.withUnsafeBufferPointer { sinB in
                guard let cp = cosB.baseAddress, let sp = sinB.baseAddress else { return } // never nil: tables hold ≥ 1 element
                // When only the last row's logits are wanted (and nobody taps the activations), the last layer
                // computes keys/values for every row but its outputs for the last row only, as llama.cpp does.
                let lastRowOnly = tap == nil && logitRows == (T - 1)..<T && T > 1
                for (l, b) in blocks.enumerated() {
                    let lora = adapters.flatMap { l < $0.count ? $0[l] : nil }
                    let r0 = lastRowOnly && l == blocks.count - 1 ? T - 1 : 0, rows = T - r0
                    let xr = x + r0 * H, hr = h + r0 * H
                    prof.measure("norm") { b.inputNorm(x, rows: T, into: h, parallel: parallel) }
                    b.attention(h, rows: T, layer: l, cache: cache, cos: cp, sin: sp, rotary: rotary,
                                qkv: qkv, attn: attn, into: h, lora: lora, outputFrom: r0, parallel: parallel)
                    Kernels.add(hr, into: xr, count: rows * H)
                    prof.measure("norm") { b.postAttentionNorm(xr, rows: rows, into: hr, parallel: parallel) }
                    b.feedForward(hr, rows: rows, gu: gu, m: m, into: hr, lora: lora, parallel: parallel)
                    Kernels.add(hr, into: xr, count: rows * H)
                    tap?("layer", l, UnsafeBufferPointer(start: x, count: T * H), T, H)
                }
            }
        }
        cache.commit(tokens: ids, longFactors: long)
        guard let rows = logitRows, !rows.isEmpty else { return [] }
        finalNorm(x + rows.lowerBound * H, rows: rows.count, into: h)
        tap?("final_norm", -1, UnsafeBufferPointer(start: h, count: rows.count * H), rows.count, H)
        var logits = [Float](repeating: 0, count: try logitCount(rows: rows.count))
        logits.withUnsafeMutableBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            prof.measure("lm_head") { lmHead(h, rows: rows.count, into: p, parallel: parallel) }
        }
        return logits
    }
}
