import CPhiKernels
import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// Phi-4-multimodal's conformer speech encoder (reference §7): global CMVN, NeMo depthwise-striding
/// subsampling (×8 in time), then conformer blocks with a T5 relative attention bias, run over independent
/// chunks of `chunkSize` frames. Input log-mel features [T, 80] → output [⌈T/8⌉, attentionDim].
public final class ConformerEncoder: @unchecked Sendable {
    struct FeedForward {
        let norm: LayerNorm, gateUp: BiasedLinear, down: BiasedLinear
    }
    struct Block {
        let ffIn: FeedForward, ffOut: FeedForward
        let normAtt: LayerNorm, q: BiasedLinear, k: BiasedLinear, v: BiasedLinear, o: BiasedLinear
        let convNorm: LayerNorm, gluConv: BiasedLinear, b1: FloatBuffer, b2: FloatBuffer
        let dwWeight: FloatBuffer, dwBias: FloatBuffer     // [kernel][D] (tap-major), [D]
        let pwConv: BiasedLinear, extPwConv: BiasedLinear
        let norm: LayerNorm
    }

    public let config: ConformerConfig
    let mean: FloatBuffer, invstd: FloatBuffer
    let conv0Weight: FloatBuffer, conv0Bias: FloatBuffer   // [9][C], [C]
    let dwWeights: [FloatBuffer], dwBiases: [FloatBuffer]  // per stage [9][C], [C]
    let pwConvs: [BiasedLinear]
    let out: BiasedLinear                                   // C·F → D
    let biasTable: FloatBuffer                              // [2·maxDistance, heads]
    let blocks: [Block]
    let parallel: Parallel
    let bf16: Bool
    /// Frequency bins after subsampling (80 → 40 → 20 → 10).
    public let finalFrequencies: Int
    public let stages: Int

    public init(config c: ConformerConfig, weights w: TensorSource, prefix: String, parallel: Parallel) throws {
        config = c
        self.parallel = parallel
        let D = c.attentionDim, C = c.convChannels, U = c.linearUnits, K = c.kernelSize
        var stages = 0, r = c.timeReduction
        while r > 1 { guard r % 2 == 0 else { throw ModelError.unsupported("conformer time_reduction \(c.timeReduction) is not a power of two") }; r /= 2; stages += 1 }
        guard stages >= 1 else { throw ModelError.unsupported("conformer time_reduction must be at least 2") }
        self.stages = stages
        var f = c.inputSize
        for _ in 0..<stages { f = (f + 1) / 2 }
        finalFrequencies = f
        guard c.extPwOutChannel == D, c.depthwiseSeparableOutChannel == D else {
            throw ModelError.unsupported("conformer ext_pw_out_channel and depthwise_separable_out_channel must equal attention_dim")
        }
        func t(_ n: String, _ s: [Int]) throws -> Tensor { try w.tensor(prefix + n, shape: s) }
        func floats(_ n: String, _ s: [Int]) throws -> FloatBuffer { FloatBuffer(try t(n, s).toFloatArray()) }
        func lin(_ n: String, _ o: Int, _ i: Int, kernel: Bool = false) throws -> BiasedLinear {
            let wt = try t(n + ".weight", kernel ? [o, i, 1] : [o, i])
            return try BiasedLinear(weight: Tensor(dtype: wt.dtype, shape: [o, i], data: wt.data, owner: wt.owner),
                                    bias: try t(n + ".bias", [o]), name: prefix + n)
        }
        func ln(_ n: String) throws -> LayerNorm {
            LayerNorm(weight: try t(n + ".weight", [D]), bias: try t(n + ".bias", [D]), eps: 1e-5)
        }
        /// [C, 1, 3, 3] (or [C,1,3]) → tap-major [taps][C] so a tap is one vector over channels.
        func tapMajor(_ n: String, _ shape: [Int]) throws -> FloatBuffer {
            let v = try t(n, shape).toFloatArray()
            let ch = shape[0], taps = v.count / ch
            var o = [Float](repeating: 0, count: v.count)
            for c in 0..<ch { for k in 0..<taps { o[k * ch + c] = v[c * taps + k] } }
            return FloatBuffer(o)
        }
        mean = try floats("encoder_embedding.global_mean", [c.inputSize])
        invstd = try floats("encoder_embedding.global_invstd", [c.inputSize])
        conv0Weight = try tapMajor("embed.conv.0.weight", [C, 1, 3, 3])
        conv0Bias = try floats("embed.conv.0.bias", [C])
        var dwW: [FloatBuffer] = [], dwB: [FloatBuffer] = [], pw: [BiasedLinear] = []
        for s in 1..<stages {
            let i = 3 * s - 1  // Sequential indices: 0 conv, 1 act, then (2 dw, 3 pw, 4 act), (5 dw, 6 pw, 7 act), …
            dwW.append(try tapMajor("embed.conv.\(i).weight", [C, 1, 3, 3]))
            dwB.append(try floats("embed.conv.\(i).bias", [C]))
            let pwT = try t("embed.conv.\(i + 1).weight", [C, C, 1, 1])
            pw.append(try BiasedLinear(weight: Tensor(dtype: pwT.dtype, shape: [C, C], data: pwT.data, owner: pwT.owner),
                                       bias: try t("embed.conv.\(i + 1).bias", [C]), name: prefix + "embed.conv.\(i + 1)"))
        }
        dwWeights = dwW
        dwBiases = dwB
        pwConvs = pw
        out = try lin("embed.out", D, C * f)
        biasTable = try floats("relative_attention_bias_layer.bias_values.weight", [2 * c.biasMaxDistance, c.attentionHeads])
        bf16 = try t("embed.out.weight", [D, C * f]).dtype == .bf16
        var blocks: [Block] = []
        for b in 0..<c.numBlocks {
            let p = "encoders.\(b)."
            func ff(_ n: String) throws -> FeedForward {
                FeedForward(norm: try ln(p + n + ".layer_norm"), gateUp: try lin(p + n + ".gate_up_proj", 2 * U, D),
                            down: try lin(p + n + ".down_proj", D, U))
            }
            blocks.append(Block(
                ffIn: try ff("feed_forward_in"), ffOut: try ff("feed_forward_out"),
                normAtt: try ln(p + "layer_norm_att"),
                q: try lin(p + "self_attn.q_proj", D, D), k: try lin(p + "self_attn.k_proj", D, D),
                v: try lin(p + "self_attn.v_proj", D, D), o: try lin(p + "self_attn.o_proj", D, D),
                convNorm: try ln(p + "conv.layer_norm"), gluConv: try lin(p + "conv.glu.ext_pw_conv_1d", 2 * D, D, kernel: true),
                b1: try floats(p + "conv.glu.b1", [1, D, 1]), b2: try floats(p + "conv.glu.b2", [1, D, 1]),
                dwWeight: try tapMajor(p + "conv.dw_sep_conv_1d.dw_conv.weight", [D, 1, K]),
                dwBias: try floats(p + "conv.dw_sep_conv_1d.dw_conv.bias", [D]),
                pwConv: try lin(p + "conv.dw_sep_conv_1d.pw_conv", D, D, kernel: true),
                extPwConv: try lin(p + "conv.ext_pw_conv_1d", D, D, kernel: true),
                norm: try ln(p + "layer_norm")))
        }
        self.blocks = blocks
    }

    /// Output frames for `frames` input frames: ⌈T/2⌉ per subsampling stage (= ⌈T/8⌉ for 3 stages).
    public func outputFrames(_ frames: Int) -> Int {
        var t = frames
        for _ in 0..<stages { t = (t + 1) / 2 }
        return t
    }

    /// Encodes features [frames, inputSize] (row-major) → [outputFrames(frames), attentionDim].
    /// `tap` sees named intermediate results ("subsampled", "block" with its index) for bisection.
    public func encode(_ features: [Float], frames: Int,
                       tap: ((String, Int, UnsafeBufferPointer<Float>) -> Void)? = nil) throws -> [Float] {
        let c = config, F0 = c.inputSize, D = c.attentionDim
        guard frames > 0, features.count == frames * F0 else {
            throw ModelError.unsupported("audio features must be [frames, \(F0)] with at least one frame")
        }
        // The subsampling runs over slices of the input (with a margin wider than its receptive field, cut
        // at multiples of its stride), so memory stays bounded for long recordings; results are identical.
        let T = outputFrames(frames)
        var h = [Float](repeating: 0, count: T * D)
        Profiler.shared.measure("conf.subsample") {
            let stride = 1 << stages, block = 128, margin = 4
            var a = 0
            while a < T {
                let b = min(T, a + block)
                let s0 = max(0, a - margin) * stride, s1 = min(frames, (b + margin) * stride)
                let part = subsample(features[(s0 * F0)..<(s1 * F0)], frames: s1 - s0)
                let skip = a - s0 / stride
                h.replaceSubrange((a * D)..<(b * D), with: part[(skip * D)..<((skip + b - a) * D)])
                a = b
            }
        }
        h.withUnsafeBufferPointer { tap?("subsampled", -1, $0) }
        // Independent chunks of chunkSize frames; the last one is zero-padded and the padding attended to,
        // as both reference implementations do for a single clip.
        let chunk = T > c.chunkSize ? c.chunkSize : T
        let chunks = (T + chunk - 1) / chunk
        var padded = h + [Float](repeating: 0, count: (chunks * chunk - T) * D)
        padded.withUnsafeMutableBufferPointer { pb in
            guard let p = pb.baseAddress else { return }
            for k in 0..<chunks { runBlocks(p + k * chunk * D, frames: chunk, tap: chunks == 1 ? tap : nil) }
        }
        return Array(padded[0..<(T * D)])
    }

    /// CMVN and the NeMo subsampling over features [frames, inputSize] → [outputFrames(frames), D].
    func subsample(_ features: ArraySlice<Float>, frames: Int) -> [Float] {
        let c = config, F0 = c.inputSize, C = c.convChannels, D = c.attentionDim
        // CMVN, then conv0 (1 → C, 3×3, stride 2, pad 1) as a matmul over 9-tap rows, ReLU. Layout [t][f][c].
        var x = Array(features)
        for t in 0..<frames { for i in 0..<F0 { x[t * F0 + i] = (x[t * F0 + i] - mean.pointer[i]) * invstd.pointer[i] } }
        var T = (frames + 1) / 2, F = (F0 + 1) / 2
        var a = [Float](repeating: 0, count: T * F * C)
        let (T1, F1) = (T, F)
        x.withUnsafeBufferPointer { xb in
            a.withUnsafeMutableBufferPointer { ab in
                guard let xp = xb.baseAddress, let ap = ab.baseAddress else { return }
                Profiler.shared.measure("sub.conv0") { parallel.forRanges(T1) { t0, t1 in
                    for t in t0..<t1 {
                        for f in 0..<F1 {
                            let o = ap + (t * F1 + f) * C
                            o.update(from: conv0Bias.pointer, count: C)
                            for ky in 0..<3 {
                                let st = 2 * t - 1 + ky
                                guard st >= 0, st < frames else { continue }
                                for kx in 0..<3 {
                                    let sf = 2 * f - 1 + kx
                                    guard sf >= 0, sf < F0 else { continue }
                                    let v = xp[st * F0 + sf], wv = conv0Weight.pointer + (ky * 3 + kx) * C
                                    for ch in 0..<C { o[ch] += v * wv[ch] }
                                }
                            }
                            for ch in 0..<C { o[ch] = max(o[ch], 0) }
                        }
                    }
                } }
            }
        }
        // Depthwise 3×3 stride 2 → pointwise 1×1 → ReLU, per further stage.
        for s in 0..<(stages - 1) {
            let T2 = (T + 1) / 2, F2 = (F + 1) / 2
            var d = [Float](repeating: 0, count: T2 * F2 * C)
            let w = dwWeights[s].pointer, bias = dwBiases[s].pointer
            a.withUnsafeBufferPointer { ab in
                d.withUnsafeMutableBufferPointer { db in
                    guard let ap = ab.baseAddress, let dp = db.baseAddress else { return }
                    let (Tc, Fc) = (T, F)
                    Profiler.shared.measure("sub.dw") { parallel.forRanges(T2) { t0, t1 in
                        for t in t0..<t1 {
                            for f in 0..<F2 {
                                let o = dp + (t * F2 + f) * C
                                o.update(from: bias, count: C)
                                for ky in 0..<3 {
                                    let st = 2 * t - 1 + ky
                                    guard st >= 0, st < Tc else { continue }
                                    for kx in 0..<3 {
                                        let sf = 2 * f - 1 + kx
                                        guard sf >= 0, sf < Fc else { continue }
                                        let src = ap + (st * Fc + sf) * C, wv = w + (ky * 3 + kx) * C
                                        for ch in 0..<C { o[ch] += src[ch] * wv[ch] }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
            T = T2
            F = F2
            a = [Float](repeating: 0, count: T * F * C)
            d.withUnsafeBufferPointer { db in
                a.withUnsafeMutableBufferPointer { ab in
                    guard let dp = db.baseAddress, let ap = ab.baseAddress else { return }
                    Profiler.shared.measure("sub.pw") { pwConvs[s](dp, rows: T * F, into: ap, parallel: parallel) }
                    for i in 0..<(T * F * C) { ap[i] = max(ap[i], 0) }
                }
            }
        }
        // [t][f][c] → [t][c·F + f] (PyTorch flattens channel-major), then Linear(C·F → D).
        var flat = [Float](repeating: 0, count: T * C * F)
        for t in 0..<T { for f in 0..<F { for ch in 0..<C { flat[t * C * F + ch * F + f] = a[(t * F + f) * C + ch] } } }
        var h = [Float](repeating: 0, count: T * D)
        flat.withUnsafeBufferPointer { fb in
            h.withUnsafeMutableBufferPointer { hb in
                guard let fp = fb.baseAddress, let hp = hb.baseAddress else { return }
                Profiler.shared.measure("sub.out") { out(fp, rows: T, into: hp, parallel: parallel) }
            }
        }
        return h
    }

    /// The conformer blocks over one chunk x: [T, D], in place.
    func runBlocks(_ x: UnsafeMutablePointer<Float>, frames T: Int, tap: ((String, Int, UnsafeBufferPointer<Float>) -> Void)?) {
        let c = config, D = c.attentionDim, U = c.linearUnits, heads = c.attentionHeads, dh = D / heads
        let maxD = c.biasMaxDistance, K = c.kernelSize
        let h = UnsafeMutablePointer<Float>.allocate(capacity: T * D)
        let g = UnsafeMutablePointer<Float>.allocate(capacity: T * 2 * max(U, D))
        let q = UnsafeMutablePointer<Float>.allocate(capacity: T * D)
        let k = UnsafeMutablePointer<Float>.allocate(capacity: T * D)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: T * D)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: T * D)
        defer { [h, g, q, k, v, y].forEach { $0.deallocate() } }
        // The relative-position bias depends only on (head, i, j): build it once for all blocks.
        var relBias = [Float](repeating: 0, count: heads * T * T)
        for head in 0..<heads {
            for i in 0..<T {
                for j in 0..<T {
                    relBias[(head * T + i) * T + j] = biasTable.pointer[(min(max(j - i, -maxD), maxD - 1) + maxD) * heads + head]
                }
            }
        }

        func feedForward(_ f: FeedForward) {
            f.norm(x, rows: T, into: h, parallel: parallel)
            f.gateUp(h, rows: T, into: g, parallel: parallel)
            // [u | g]: u = first half (value), g = second half (gate): u·swish(g), packed into the first U columns.
            let gp = UnsafeMutableRawPointer(g)
            parallel.forRanges(T) { t0, t1 in
                for t in t0..<t1 {
                    let row = gp.assumingMemoryBound(to: Float.self) + t * 2 * U
                    phi_silu(row + U, Int64(U))
                    for i in 0..<U { row[i] *= row[U + i] }
                }
            }
            f.down(g, ldx: 2 * U, rows: T, into: y, parallel: parallel)
            for i in 0..<(T * D) { x[i] += 0.5 * y[i] }
        }

        let prof = Profiler.shared
        for (bi, b) in blocks.enumerated() {
            prof.measure("conf.ffn") { feedForward(b.ffIn) }
            // Self-attention with the T5 relative bias (no causal mask).
            prof.measure("conf.attn") {
            b.normAtt(x, rows: T, into: h, parallel: parallel)
            b.q(h, rows: T, into: q, parallel: parallel)
            b.k(h, rows: T, into: k, parallel: parallel)
            b.v(h, rows: T, into: v, parallel: parallel)
            Kernels.fullAttention(q: q, ldq: D, k: k, ldk: D, v: v, ldv: D, queries: T, keys: T, heads: heads, headDim: dh,
                                  scale: 1 / Float(dh).squareRoot(), bf16: bf16, bias: { head, scores in
                                      relBias.withUnsafeBufferPointer { rb in
                                          guard let b = rb.baseAddress else { return }
                                          let src = b + head * T * T
                                          for i in 0..<(T * T) { scores[i] += src[i] }
                                      }
                                  }, out: h, ldo: D, parallel: parallel)
            b.o(h, rows: T, into: y, parallel: parallel)
            Kernels.add(y, into: x, count: T * D)
            }
            // Convolution module: LN → GLU (value + b1)·swish(gate + b2) → causal depthwise conv → pointwise → swish → pointwise.
            prof.measure("conf.conv") {
            b.convNorm(x, rows: T, into: h, parallel: parallel)
            b.gluConv(h, rows: T, into: g, parallel: parallel)
            let hp = UnsafeMutableRawPointer(h), gp = UnsafeMutableRawPointer(g)
            parallel.forRanges(T) { t0, t1 in
                for t in t0..<t1 {
                    let row = gp.assumingMemoryBound(to: Float.self) + t * 2 * D, out = hp.assumingMemoryBound(to: Float.self) + t * D
                    for i in 0..<D { row[D + i] += b.b2.pointer[i] }
                    phi_silu(row + D, Int64(D))
                    for i in 0..<D { out[i] = (row[i] + b.b1.pointer[i]) * row[D + i] }
                }
            }
            // Depthwise conv, kernel K, padding K−1 both sides, last K−1 outputs dropped: out[t] = Σ_k w[k]·in[t+k−(K−1)].
            for t in 0..<T {
                let o = q + t * D
                o.update(from: b.dwBias.pointer, count: D)
                for tap in 0..<K {
                    let s = t + tap - (K - 1)
                    guard s >= 0 else { continue }
                    let src = h + s * D, wv = b.dwWeight.pointer + tap * D
                    for i in 0..<D { o[i] += src[i] * wv[i] }
                }
            }
            b.pwConv(q, rows: T, into: k, parallel: parallel)
            Kernels.activate(.silu, k, count: T * D, parallel: parallel)
            b.extPwConv(k, rows: T, into: y, parallel: parallel)
            Kernels.add(y, into: x, count: T * D)
            }
            prof.measure("conf.ffn") { feedForward(b.ffOut) }
            b.norm(x, rows: T, into: h, parallel: parallel)
            x.update(from: h, count: T * D)
            tap?("block", bi, UnsafeBufferPointer(start: x, count: T * D))
        }
    }
}
