import PhiKernels

/// Grouped-query self-attention with rotary embeddings on the first `rotary.rotaryDim` dims of each head.
/// The projections are either Phi-3's fused qkv_proj ([q | k | v] rows) or separate q/k/v matrices, with
/// optional biases (Llama's `attention_bias` puts one on q, k, v and o; Qwen2 only on q, k, v).
public struct Attention: @unchecked Sendable {
    public enum Projection: @unchecked Sendable {
        case fused(Linear)
        case separate(q: Linear, k: Linear, v: Linear)
    }

    public let projection: Projection
    public let output: Linear
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let slidingWindow: Int
    /// [qkvWidth] = [q bias | k bias | v bias].
    public let qkvBias: Bias?
    /// [hidden].
    public let outputBias: Bias?
    /// Columns of the q/k/v rows: (heads + 2·kvHeads)·headDim, with k at `kOff` and v at `vOff`. Computed once,
    /// with overflow reported, from counts checked against the bound matrices (issue 10: head counts and
    /// head_dim whose products wrapped modulo 2^64 to the real sizes passed every shape check).
    public let qkvWidth: Int
    /// Columns of the attention output (o_proj's input): heads·headDim, also where k starts in a q/k/v row.
    public let attentionWidth: Int
    let kOff: Int
    let vOff: Int

    /// Throws unless the head counts fit the matrices exactly: q/k/v rows heads·headDim and kvHeads·headDim
    /// (one fused matrix of their sum), o_proj columns heads·headDim, biases as wide as what they add to.
    public init(projection: Projection, output: Linear, heads: Int, kvHeads: Int, headDim: Int, slidingWindow: Int = 0,
                qkvBias: Bias? = nil, outputBias: Bias? = nil) throws {
        guard heads > 0, kvHeads > 0, headDim > 0, heads % kvHeads == 0 else {
            throw NNError.invalidInput("attention: \(heads) heads, \(kvHeads) kv heads of \(headDim) dims do not fit (positive, heads a multiple of kv heads)")
        }
        guard slidingWindow >= 0 else { throw NNError.invalidInput("attention: sliding window \(slidingWindow) is negative") }
        let (q, o1) = heads.multipliedReportingOverflow(by: headDim)
        let (kv, o2) = kvHeads.multipliedReportingOverflow(by: headDim)
        let (qk, o3) = q.addingReportingOverflow(kv)
        let (width, o4) = qk.addingReportingOverflow(kv)
        guard !(o1 || o2 || o3 || o4) else {
            throw NNError.invalidInput("attention: (\(heads) + 2 × \(kvHeads)) heads × \(headDim) dims overflows")
        }
        let hidden = output.outFeatures
        switch projection {
        case .fused(let w):
            guard w.outFeatures == width, w.inFeatures == hidden else {
                throw NNError.unsupportedWeight(name: "qkv_proj", reason: "is [\(w.outFeatures), \(w.inFeatures)] but \(heads) + 2 × \(kvHeads) heads of \(headDim) need [\(width), \(hidden)]")
            }
        case .separate(let qw, let kw, let vw):
            for (name, w, rows) in [("q_proj", qw, q), ("k_proj", kw, kv), ("v_proj", vw, kv)]
            where w.outFeatures != rows || w.inFeatures != hidden {
                throw NNError.unsupportedWeight(name: name, reason: "is [\(w.outFeatures), \(w.inFeatures)] but the head counts need [\(rows), \(hidden)]")
            }
        }
        guard output.inFeatures == q else {
            throw NNError.unsupportedWeight(name: "o_proj", reason: "takes \(output.inFeatures) columns but \(heads) heads of \(headDim) give \(q)")
        }
        if let b = qkvBias, b.count != width {
            throw NNError.unsupportedWeight(name: "qkv bias", reason: "has \(b.count) values for \(width) projection rows")
        }
        if let b = outputBias, b.count != hidden {
            throw NNError.unsupportedWeight(name: "o_proj bias", reason: "has \(b.count) values for \(hidden) outputs")
        }
        self.projection = projection
        self.output = output
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.slidingWindow = slidingWindow
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        qkvWidth = width
        attentionWidth = q
        kOff = q
        vOff = q + kv
    }

    /// h: [T, hidden] normalized input → out: [T, hidden]. Keys/values of these T positions are appended to
    /// `cache` layer `layer` (the caller commits the positions after all layers ran). With `outputFrom` r0 > 0
    /// only rows r0 ..< T of `out` are computed (the last layer when only the last row's logits are wanted).
    /// `qkv` scratch holds T·qkvWidth floats, `attn` scratch T·heads·headDim.
    public func callAsFunction(
        _ h: UnsafePointer<Float>, rows T: Int, layer: Int, cache: KVCache,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, rotary: RotaryEmbedding,
        qkv: UnsafeMutablePointer<Float>, attn: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, lora: LayerLoRA? = nil, outputFrom r0: Int = 0, parallel: Parallel
    ) {
        let width = qkvWidth
        let prof = Profiler.shared
        prof.measure("qkv") {
            project(h, rows: T, into: qkv, parallel: parallel)
            lora?.qkv?.add(h, rows: T, into: qkv, ldy: width, parallel: parallel)
        }
        attend(qkv, rows: T, layer: layer, cache: cache, cos: cos, sin: sin, rotary: rotary, attn: attn,
               outputFrom: r0, parallel: parallel)
        let aw = attentionWidth, rows = T - r0
        prof.measure("o_proj") {
            output(attn + r0 * aw, rows: rows, into: out + r0 * output.outFeatures, parallel: parallel)
            outputBias?.add(into: out + r0 * output.outFeatures, rows: rows)
            lora?.o?.add(attn + r0 * aw, rows: rows, into: out + r0 * output.outFeatures, parallel: parallel)
        }
    }

    /// qkv[T, qkvWidth] = the base q/k/v projections of h [T, hidden] plus their biases (no LoRA).
    func project(_ h: UnsafePointer<Float>, rows T: Int, into qkv: UnsafeMutablePointer<Float>, parallel: Parallel) {
        let width = qkvWidth, qOff = 0
        switch projection {
        case .fused(let w):
            w(h, rows: T, into: qkv, ldy: width, parallel: parallel)
        case .separate(let q, let k, let v):
            q(h, rows: T, into: qkv + qOff, ldy: width, parallel: parallel)
            k(h, rows: T, into: qkv + kOff, ldy: width, parallel: parallel)
            v(h, rows: T, into: qkv + vOff, ldy: width, parallel: parallel)
        }
        qkvBias?.add(into: qkv, rows: T, ld: width)
    }

    /// The per-sequence middle of attention for T rows of one sequence: rotary on q and k at the positions
    /// after `cache.count` (tables `cos`/`sin` start there), keys and values stored in `cache` layer `layer`,
    /// and attention of rows r0 ..< T over the cache into `attn` ([T, heads·headDim]). `qkv` holds the T rows
    /// of projections ([T, qkvWidth]). A batched pass calls it once per sequence over that sequence's rows.
    func attend(_ qkv: UnsafeMutablePointer<Float>, rows T: Int, layer: Int, cache: KVCache,
                cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, rotary: RotaryEmbedding,
                attn: UnsafeMutablePointer<Float>, outputFrom r0: Int = 0, parallel: Parallel) {
        let width = qkvWidth, qOff = 0
        let prof = Profiler.shared
        prof.measure("rope+cache") {
            Kernels.applyRotary(x: qkv + qOff, ld: width, rows: T, heads: heads, headDim: headDim,
                                rotaryDim: rotary.rotaryDim, interleaved: rotary.interleaved, cos: cos, sin: sin)
            Kernels.applyRotary(x: qkv + kOff, ld: width, rows: T, heads: kvHeads, headDim: headDim,
                                rotaryDim: rotary.rotaryDim, interleaved: rotary.interleaved, cos: cos, sin: sin)
            cache.store(layer: layer, k: qkv + kOff, ldk: width, v: qkv + vOff, ldv: width, rows: T)
        }
        // Keys and values of every row are cached; outputs are computed for rows r0 ..< T only.
        let past = cache.count, rows = T - r0, aw = attentionWidth
        prof.measure("attention") {
            Kernels.attention(q: qkv + qOff + r0 * width, ldq: width, rows: rows, heads: heads, headDim: headDim,
                              keys: cache.keys(layer: layer), values: cache.values(layer: layer),
                              capacity: cache.capacity, kvHeads: kvHeads, past: past + r0, window: slidingWindow,
                              scale: 1 / Float(headDim).squareRoot(), out: attn + r0 * aw, ldo: aw, parallel: parallel)
        }
    }
}
