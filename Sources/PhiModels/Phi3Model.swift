import Foundation
import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Phi-3 architecture (Phi3ForCausalLM): Phi-4-mini, Phi-3, Phi-3.5-mini.
/// Pre-norm decoder blocks: fused qkv + partial rotary + GQA attention, fused gate_up SiLU MLP.
public final class Phi3Model: LanguageModel, @unchecked Sendable {
    public let config: Phi3Config
    public let parallel: Parallel
    let embedding: Embedding
    let blocks: [Block]
    let finalNorm: RMSNorm
    let lmHead: Linear
    let rotary: RotaryEmbedding
    /// Longest chunk of a prompt processed in one batched pass; bounds scratch memory at long context.
    public var prefillChunk = 512

    struct Block {
        let inputNorm: RMSNorm
        let attention: Attention
        let postAttentionNorm: RMSNorm
        let gateUp: Linear
        let down: Linear
    }

    public var vocabularySize: Int { config.vocabSize }
    public var contextLength: Int { config.maxPositionEmbeddings }
    public var hiddenSize: Int { config.hiddenSize }

    /// Canonical checkpoint keys (Hugging Face layout) and where each is bound.
    public enum Keys {
        public static let embedTokens = "model.embed_tokens.weight"
        public static let norm = "model.norm.weight"
        public static let lmHead = "lm_head.weight"
        public static func layer(_ i: Int, _ suffix: String) -> String { "model.layers.\(i).\(suffix)" }
    }

    public convenience init(directory: URL, parallel: Parallel = Parallel()) throws {
        let config = try Phi3Config.load(directory: directory)
        let store = try WeightStore(directory: directory)
        try self.init(config: config, weights: store, parallel: parallel)
    }

    /// Binds every parameter by name with its shape checked; any checkpoint tensor left unused is an error.
    public init(config c: Phi3Config, weights w: WeightStore, parallel: Parallel = Parallel()) throws {
        config = c
        self.parallel = parallel
        let H = c.hiddenSize, D = c.headDim
        let qkvRows = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * D
        func t(_ name: String, _ shape: [Int]) throws -> Tensor { try w.tensor(name, shape: shape) }

        embedding = Embedding(table: try t(Keys.embedTokens, [c.vocabSize, H]))   // [V, H]
        var blocks: [Block] = []
        for i in 0..<c.numHiddenLayers {
            let L = { (s: String) in Keys.layer(i, s) }
            let qkv = try Linear(weight: t(L("self_attn.qkv_proj.weight"), [qkvRows, H]), name: L("self_attn.qkv_proj.weight")) // [(nH+2nKV)·D, H]
            let o = try Linear(weight: t(L("self_attn.o_proj.weight"), [H, c.numAttentionHeads * D]))                       // [H, nH·D]
            blocks.append(Block(
                inputNorm: RMSNorm(weight: try t(L("input_layernorm.weight"), [H]), eps: c.rmsNormEps),
                attention: Attention(projection: .fused(qkv), output: o, heads: c.numAttentionHeads,
                                     kvHeads: c.numKeyValueHeads, headDim: D,
                                     slidingWindow: (c.slidingWindow ?? 0) < c.maxPositionEmbeddings ? (c.slidingWindow ?? 0) : 0),
                postAttentionNorm: RMSNorm(weight: try t(L("post_attention_layernorm.weight"), [H]), eps: c.rmsNormEps),
                gateUp: try Linear(weight: t(L("mlp.gate_up_proj.weight"), [2 * c.intermediateSize, H])),                    // [2I, H]
                down: try Linear(weight: t(L("mlp.down_proj.weight"), [H, c.intermediateSize]))))                            // [H, I]
        }
        self.blocks = blocks
        finalNorm = RMSNorm(weight: try t(Keys.norm, [H]), eps: c.rmsNormEps)
        if c.tieWordEmbeddings {
            lmHead = try Linear(weight: embedding.table)
            if w.contains(Keys.lmHead) { _ = try t(Keys.lmHead, [c.vocabSize, H]) } // tied: a stored copy is ignored, as transformers does
        } else {
            lmHead = try Linear(weight: t(Keys.lmHead, [c.vocabSize, H]))                                                     // [V, H]
        }
        rotary = c.makeRotaryEmbedding()
        let unused = w.unusedNames()
        guard unused.isEmpty else { throw ModelError.unexpectedWeights(unused) }
    }

    public func makeCache(maxLength: Int? = nil) -> KVCache {
        KVCache(layers: config.numHiddenLayers, kvHeads: config.numKeyValueHeads, headDim: config.headDim,
                maxLength: min(maxLength ?? contextLength, contextLength))
    }

    public func forward(_ tokens: [Int], cache: KVCache, logits: LogitsRequest, tap: ActivationTap?) throws -> [Float] {
        for id in tokens where id < 0 || id >= config.vocabSize {
            throw ModelError.tokenOutOfRange(id: id, vocabularySize: config.vocabSize)
        }
        let total = cache.count + tokens.count
        guard total <= min(contextLength, cache.maxLength) else {
            throw ModelError.contextOverflow(requested: total, limit: min(contextLength, cache.maxLength))
        }
        guard !tokens.isEmpty else { return [] }
        // LongRoPE: the factors depend on the whole sequence length. When this step crosses the original
        // context, keys cached with the short factors are stale: recompute the whole sequence with the long
        // ones (transformers drops its cache at this point too), so every step equals a cache-free pass.
        var input = tokens
        var returnedRows = tokens.count
        let long = rotary.usesLongFactors(lastPosition: total - 1)
        // (A cache truncated back below the boundary is rebuilt with the short factors the same way.)
        if cache.count > 0 && cache.longFactors != long {
            input = cache.tokens + tokens
            returnedRows = tokens.count
            cache.reset()
        }
        cache.reserve(cache.count + input.count)
        var out: [Float] = []
        var start = 0
        while start < input.count {
            let end = min(input.count, start + prefillChunk)
            let chunk = Array(input[start..<end])
            let isLast = end == input.count
            // Rows of this chunk whose logits the caller wants.
            let firstWanted = input.count - returnedRows
            var want: Range<Int>? = nil
            switch logits {
            case .none: want = nil
            case .last: want = isLast ? (chunk.count - 1)..<chunk.count : nil
            case .all:
                let lo = max(firstWanted, start), hi = end
                want = lo < hi ? (lo - start)..<(hi - start) : nil
            }
            out += runChunk(chunk, cache: cache, long: long, logitRows: want, tap: tap)
            start = end
        }
        return out
    }

    /// One batched pass over `ids` (positions cache.count ..< cache.count+T); commits them to the cache.
    private func runChunk(_ ids: [Int], cache: KVCache, long: Bool, logitRows: Range<Int>?, tap: ActivationTap?) -> [Float] {
        let c = config, T = ids.count, H = c.hiddenSize, I = c.intermediateSize
        let qkvWidth = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * c.headDim
        let attnWidth = c.numAttentionHeads * c.headDim
        let x = UnsafeMutablePointer<Float>.allocate(capacity: T * H)         // [T, H] residual stream
        let h = UnsafeMutablePointer<Float>.allocate(capacity: T * H)         // [T, H] normed
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: T * qkvWidth) // [T, (nH+2nKV)·D]
        let attn = UnsafeMutablePointer<Float>.allocate(capacity: T * max(attnWidth, H))
        let gu = UnsafeMutablePointer<Float>.allocate(capacity: T * 2 * I)    // [T, 2I]
        let m = UnsafeMutablePointer<Float>.allocate(capacity: T * I)         // [T, I]
        defer { [x, h, qkv, attn, gu, m].forEach { $0.deallocate() } }

        embedding.lookup(ids, into: x)
        tap?("embeddings", -1, UnsafeBufferPointer(start: x, count: T * H), T, H)
        let (cosT, sinT) = rotary.tables(start: cache.count, count: T, long: long)
        cosT.withUnsafeBufferPointer { cosB in
            sinT.withUnsafeBufferPointer { sinB in
                guard let cp = cosB.baseAddress, let sp = sinB.baseAddress else { return } // never nil: tables hold ≥ 1 element
                let prof = Profiler.shared
                for (l, b) in blocks.enumerated() {
                    prof.measure("norm") { b.inputNorm(x, rows: T, into: h, parallel: parallel) }
                    b.attention(h, rows: T, layer: l, cache: cache, cos: cp, sin: sp, rotaryDim: rotary.rotaryDim,
                                qkv: qkv, attn: attn, into: h, parallel: parallel)
                    Kernels.add(h, into: x, count: T * H)
                    prof.measure("norm") { b.postAttentionNorm(x, rows: T, into: h, parallel: parallel) }
                    prof.measure("gate_up") { b.gateUp(h, rows: T, into: gu, parallel: parallel) }
                    prof.measure("silu") { Kernels.siluGateUp(gu: gu, out: m, rows: T, half: I, parallel: parallel) }
                    prof.measure("down") { b.down(m, rows: T, into: h, parallel: parallel) }
                    Kernels.add(h, into: x, count: T * H)
                    tap?("layer", l, UnsafeBufferPointer(start: x, count: T * H), T, H)
                }
            }
        }
        cache.commit(tokens: ids, longFactors: long)
        guard let rows = logitRows, !rows.isEmpty else { return [] }
        finalNorm(x + rows.lowerBound * H, rows: rows.count, into: h)
        tap?("final_norm", -1, UnsafeBufferPointer(start: h, count: rows.count * H), rows.count, H)
        var logits = [Float](repeating: 0, count: rows.count * c.vocabSize)
        logits.withUnsafeMutableBufferPointer { buf in
            guard let p = buf.baseAddress else { return }
            Profiler.shared.measure("lm_head") { lmHead(h, rows: rows.count, into: p, parallel: parallel) }
        }
        return logits
    }
}
