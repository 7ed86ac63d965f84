import CPhiKernels

/// Kernels the encoders need (SigLIP vision tower, conformer, projectors): LayerNorm, GELU, SiLU and
/// full (non-causal) attention. The heavy loops are in CPhiKernels; these wrappers add threading.
extension Kernels {
    /// LayerNorm over rows of length n: y = (x − mean)/sqrt(var + eps)·w + b. `bias` may be nil.
    public static func layerNorm(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, rows: Int, n: Int, eps: Float, parallel: Parallel
    ) {
        let xp = UnsafeRawPointer(x), wp = UnsafeRawPointer(weight), yp = UnsafeMutableRawPointer(y)
        let bp = bias.map { UnsafeRawPointer($0) }
        parallel.forRanges(rows, granularity: max(1, 4096 / max(n, 1))) { r0, r1 in
            phi_layernorm(xp.assumingMemoryBound(to: Float.self) + r0 * n, wp.assumingMemoryBound(to: Float.self),
                          bp?.assumingMemoryBound(to: Float.self), yp.assumingMemoryBound(to: Float.self) + r0 * n,
                          Int64(r1 - r0), Int64(n), eps)
        }
    }

    public enum Activation: Sendable {
        /// GELU with the tanh approximation (gelu_pytorch_tanh).
        case geluTanh
        /// GELU with the exact erf.
        case gelu
        /// x·sigmoid(x) (swish).
        case silu
    }

    /// Applies `activation` in place to `count` values.
    public static func activate(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int, parallel: Parallel) {
        let xp = UnsafeMutableRawPointer(x)
        parallel.forRanges(count, granularity: 1 << 14) { i0, i1 in
            let p = xp.assumingMemoryBound(to: Float.self) + i0
            switch activation {
            case .geluTanh: phi_gelu_tanh(p, Int64(i1 - i0))
            case .gelu: phi_gelu_erf(p, Int64(i1 - i0))
            case .silu: phi_silu(p, Int64(i1 - i0))
            }
        }
    }

    /// Non-causal multi-head attention: every query sees every key.
    /// q: [T, heads·D] (row stride ldq), k and v: [S, heads·D] (strides ldk, ldv), out: [T, heads·D] (ldo).
    /// scores = q·kᵀ·scale (+ bias(head, scores [T, S]) if given), softmax over keys, out = P·v.
    /// `bf16` rounds the matmul inputs to bf16 (what a bf16 reference model does) and uses the bf16 kernels.
    public static func fullAttention(
        q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
        queries T: Int, keys S: Int, heads: Int, headDim D: Int, scale: Float, bf16: Bool,
        bias: ((_ head: Int, _ scores: UnsafeMutablePointer<Float>) -> Void)? = nil,
        out: UnsafeMutablePointer<Float>, ldo: Int, parallel: Parallel
    ) {
        guard T > 0, S > 0, heads > 0, D > 0 else { return }
        let qp = UnsafeRawPointer(q), kp = UnsafeRawPointer(k), vp = UnsafeRawPointer(v), op = UnsafeMutableRawPointer(out)
        parallel.forRanges(heads) { h0, h1 in
            let q = qp.assumingMemoryBound(to: Float.self), k = kp.assumingMemoryBound(to: Float.self)
            let v = vp.assumingMemoryBound(to: Float.self), out = op.assumingMemoryBound(to: Float.self)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: T * S)
            let kc = UnsafeMutablePointer<Float>.allocate(capacity: bf16 ? 1 : S * D)  // K_h [S, D] (f32 path)
            let vt = UnsafeMutablePointer<Float>.allocate(capacity: D * S)     // V_hᵀ [D, S]
            // bf16 with many queries: the packed panel kernel on exact shapes (activations interleaved once,
            // weights as plain bf16 rows). Few queries: the dot-product kernel, rows zero-padded to 32.
            let packed = bf16 && phi_gemm_bf16_prefers_packed(Int64(T)) != 0
            let ldD = packed ? D : (D + 31) / 32 * 32, ldS = packed ? S : (S + 31) / 32 * 32
            let apCount = packed ? Int(max(phi_bf16_packed_count(Int64(T), Int64(D)), phi_bf16_packed_count(Int64(T), Int64(S)))) : 1
            let ap = UnsafeMutablePointer<UInt32>.allocate(capacity: apCount)
            let xb = UnsafeMutablePointer<UInt16>.allocate(capacity: bf16 && !packed ? max(T * ldD, T * ldS) : 1)
            let wb = UnsafeMutablePointer<UInt16>.allocate(capacity: bf16 ? max(S * ldD, D * ldS) : 1)
            defer { scores.deallocate(); kc.deallocate(); vt.deallocate(); ap.deallocate(); xb.deallocate(); wb.deallocate() }
            /// y[T, n] (stride ldy) = x[T, K] (f32, stride ldx) · wᵀ with w: bf16 [n, ldw] rows.
            func bf16Matmul(_ x: UnsafePointer<Float>, _ ldx: Int, _ K: Int, _ ldw: Int, _ n: Int,
                            _ y: UnsafeMutablePointer<Float>, _ ldy: Int) {
                if packed {
                    phi_pack_bf16_packed(x, Int64(ldx), Int64(T), Int64(K), ap, 0, Int64(T))
                    phi_gemm_bf16_packed(ap, Int64(T), Int64(K), wb, y, Int64(ldy), 0, Int64(n))
                } else {
                    phi_pack_bf16(x, Int64(ldx), Int64(T), Int64(K), xb, Int64(ldw))
                    phi_gemm_bf16(xb, Int64(ldw), Int64(T), Int64(ldw), wb, y, Int64(ldy), 0, Int64(n))
                }
            }
            for h in h0..<h1 {
                for s in 0..<S {
                    let vr = v + s * ldv + h * D
                    for d in 0..<D { vt[d * S + s] = vr[d] }
                }
                let qh = q + h * D, kh = k + h * D
                if bf16 {
                    phi_pack_bf16(kh, Int64(ldk), Int64(S), Int64(D), wb, Int64(ldD))
                    bf16Matmul(qh, ldq, D, ldD, S, scores, S)
                } else {
                    for s in 0..<S { (kc + s * D).update(from: kh + s * ldk, count: D) }
                    phi_gemm(qh, Int64(ldq), Int64(T), Int64(D), UnsafeRawPointer(kc), Int32(PHI_TYPE_F32),
                             scores, Int64(S), 0, Int64(S))
                }
                if let bias {
                    for i in 0..<(T * S) { scores[i] *= scale }
                    bias(h, scores)
                    phi_softmax_rows(scores, Int64(T), Int64(S), Int64(S), 1)
                } else {
                    phi_softmax_rows(scores, Int64(T), Int64(S), Int64(S), scale)
                }
                if bf16 {
                    phi_pack_bf16(vt, Int64(S), Int64(D), Int64(S), wb, Int64(ldS))
                    bf16Matmul(scores, S, S, ldS, D, out + h * D, ldo)
                } else {
                    phi_gemm(scores, Int64(S), Int64(T), Int64(S), UnsafeRawPointer(vt), Int32(PHI_TYPE_F32),
                             out + h * D, Int64(ldo), 0, Int64(D))
                }
            }
        }
    }
}
