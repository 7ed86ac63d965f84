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

    public var description: String {
        switch self {
        case .tokenOutOfRange(let id, let v): return "token id \(id) is outside the vocabulary (size \(v))"
        case .contextOverflow(let r, let l):
            return "the sequence needs \(r) positions but the model's context limit is \(l) tokens"
        case .sharedCache(let i): return "batch item \(i) uses a KV cache an earlier item of the same batch uses"
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

    public init(embedding: Embedding, blocks: [DecoderBlock], finalNorm: Norm, lmHead: Linear,
                rotary: RotaryEmbedding, contextLength: Int, parallel: Parallel) {
        self.embedding = embedding
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        self.rotary = rotary
        self.contextLength = contextLength
        self.parallel = parallel
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
        cache.reserve(cache.count + input.count)
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
            out += runChunk(Array(input[start..<end]), cache: cache, long: long, logitRows: want, tap: tap,
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
                          conditioning: Conditioning?) -> [Float] {
        let T = ids.count, H = hiddenSize
        let I = blocks.map { $0.feedForward.intermediateSize }.max() ?? 0
        let qkvWidth = blocks.map { $0.attention.qkvWidth }.max() ?? 0
        let attnWidth = blocks.map { $0.attention.heads * $0.attention.headDim }.max() ?? 0
        let x = UnsafeMutablePointer<Float>.allocate(capacity: T * H)          // [T, H] residual stream
        let h = UnsafeMutablePointer<Float>.allocate(capacity: T * H)          // [T, H] normed / block outputs
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: T * qkvWidth) // [T, (nH+2nKV)·D]
        let attn = UnsafeMutablePointer<Float>.allocate(capacity: T * max(attnWidth, H))
        let gu = UnsafeMutablePointer<Float>.allocate(capacity: T * 2 * I)     // [T, 2I] = [gate | up]
        let m = UnsafeMutablePointer<Float>.allocate(capacity: T * I)          // [T, I]
        defer { [x, h, qkv, attn, gu, m].forEach { $0.deallocate() } }

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
        var logits = [Float](repeating: 0, count: rows.count * vocabularySize)
        logits.withUnsafeMutableBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            prof.measure("lm_head") { lmHead(h, rows: rows.count, into: p, parallel: parallel) }
        }
        return logits
    }
}
