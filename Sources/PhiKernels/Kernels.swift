import CPhiKernels
import Foundation

/// Math on raw f32 buffers. The heavy loops are in CPhiKernels; these wrappers add threading.
public enum Kernels {
    /// y[t, n] = Σ_k x[t, k] · W[n, k]   (x: [T, K] with row stride ldx, W: [N, K], y: [T, N] with row stride ldy)
    public static func matmul(
        x: UnsafePointer<Float>, ldx: Int, rows T: Int, k K: Int,
        weight: UnsafeRawPointer, type: DType, n N: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, parallel: Parallel
    ) {
        let xp = UnsafeRawPointer(x), yp = UnsafeMutableRawPointer(y)
        if type == .bf16 && phi_gemm_bf16_prefers_packed(Int64(T)) != 0 {
            // Many rows on an AVX512-BF16 CPU: round the activations to bf16 once, in the interleaved layout
            // the panel kernel broadcasts from (split by row blocks across threads), then split the weight rows
            // in whole 32-row panels.
            let count = Int(phi_bf16_packed_count(Int64(T), Int64(K)))
            var owned: UnsafeMutablePointer<UInt32>? = nil // only if the thread's scratch cannot grow
            defer { owned?.deallocate() }
            let apw: UnsafeMutablePointer<UInt32>
            if let scratch = phi_bf16_packed_scratch(Int64(count)) {
                apw = scratch
            } else {
                apw = UnsafeMutablePointer<UInt32>.allocate(capacity: count)
                owned = apw
            }
            let ap = UnsafeMutableRawPointer(apw)
            let mr = Int(phi_bf16_packed_rows())
            parallel.forRanges(T, granularity: mr) { t0, t1 in
                phi_pack_bf16_packed(xp.assumingMemoryBound(to: Float.self), Int64(ldx), Int64(T), Int64(K),
                                     apw, Int64(t0), Int64(t1))
            }
            let app = UnsafeRawPointer(ap), wp = weight.assumingMemoryBound(to: UInt16.self)
            // Threads take chunks of 32-row panels in turn (shrinking towards the end) rather than fixed halves,
            // so a core slowed by other work does not leave the others waiting at the end of every matmul.
            let threads = min(parallel.threads, (N + 31) / 32)
            let counter = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
            defer { counter.deallocate() }
            counter.initialize(to: 0)
            parallel.forRanges(threads) { _, _ in
                phi_gemm_bf16_packed_chunks(app.assumingMemoryBound(to: UInt32.self), Int64(T), Int64(K), wp,
                                            yp.assumingMemoryBound(to: Float.self), Int64(ldy), Int64(N),
                                            8 * 32, Int64(threads), counter)
            }
            return
        }
        if type == .bf16 {
            // bf16 weights: round the activations to bf16 once and use bf16 dot products (the reference
            // runs bf16 checkpoints with bf16 activations too).
            let ldxb = (K + 31) / 32 * 32
            let xb = UnsafeMutablePointer<UInt16>.allocate(capacity: T * ldxb)
            defer { xb.deallocate() }
            phi_pack_bf16(x, Int64(ldx), Int64(T), Int64(K), xb, Int64(ldxb))
            let xbp = UnsafeRawPointer(xb), wp = weight.assumingMemoryBound(to: UInt16.self)
            parallel.forRanges(N, granularity: 48) { n0, n1 in // 48: whole 6-row tiles per thread
                phi_gemm_bf16(xbp.assumingMemoryBound(to: UInt16.self), Int64(ldxb), Int64(T), Int64(K), wp,
                              yp.assumingMemoryBound(to: Float.self), Int64(ldy), Int64(n0), Int64(n1))
            }
            return
        }
        parallel.forRanges(N, granularity: 48) { n0, n1 in // 48: whole 6-row tiles per thread
            phi_gemm(xp.assumingMemoryBound(to: Float.self), Int64(ldx), Int64(T), Int64(K), weight, type.id,
                     yp.assumingMemoryBound(to: Float.self), Int64(ldy), Int64(n0), Int64(n1))
        }
    }

    /// RMSNorm over rows of length n: y = x / sqrt(mean(x²) + eps) · w.
    public static func rmsNorm(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        rows: Int, n: Int, eps: Float, parallel: Parallel = Parallel(threads: 1)
    ) {
        let xp = UnsafeRawPointer(x), wp = UnsafeRawPointer(weight), yp = UnsafeMutableRawPointer(y)
        parallel.forRanges(rows, granularity: max(1, 4096 / max(n, 1))) { r0, r1 in
            phi_rmsnorm(xp.assumingMemoryBound(to: Float.self) + r0 * n, wp.assumingMemoryBound(to: Float.self),
                        yp.assumingMemoryBound(to: Float.self) + r0 * n, Int64(r1 - r0), Int64(n), eps)
        }
    }

    /// out[t, i] = silu(gu[t, i]) · gu[t, half + i] for the fused gate_up layout [gate | up].
    public static func siluGateUp(gu: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Int, half: Int,
                                  parallel: Parallel = Parallel(threads: 1)) {
        let gp = UnsafeRawPointer(gu), op = UnsafeMutableRawPointer(out)
        parallel.forRanges(rows) { r0, r1 in
            phi_silu_mul(gp.assumingMemoryBound(to: Float.self) + r0 * 2 * half,
                         op.assumingMemoryBound(to: Float.self) + r0 * half, Int64(r1 - r0), Int64(half))
        }
    }

    /// x += a, elementwise.
    public static func add(_ a: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += a[i] }
    }

    /// Rotates the first `rotaryDim` dims of every head. cos/sin: [T, rotaryDim] with frequency j at
    /// entries j and j + rotaryDim/2. x: [T, heads·headDim] with row stride ld.
    /// - rotate_half (transformers): x[j] ← x[j]·cos[j] − x[j+h]·sin[j],  x[j+h] ← x[j+h]·cos[j+h] + x[j]·sin[j+h].
    /// - interleaved (GGML "normal"): the pair (x[2j], x[2j+1]) rotates by frequency j.
    public static func applyRotary(
        x: UnsafeMutablePointer<Float>, ld: Int, rows T: Int, heads: Int, headDim: Int, rotaryDim: Int,
        interleaved: Bool = false, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        phi_rotary(x, Int64(ld), Int64(T), Int64(heads), Int64(headDim), Int64(rotaryDim), interleaved ? 1 : 0, cos, sin)
    }

    /// Positions per key block: a KV cache's keys are [nKV][capacity/keyBlock][headDim][keyBlock], so scoring reads
    /// them front to back; its capacity is a multiple of `keyBlock` (see CPhiKernels.h).
    public static let keyBlock = Int(PHI_KEY_BLOCK)

    /// Offset of key element (dim d, position j) from the start of one kv head's keys.
    @inline(__always) public static func keyOffset(dim d: Int, position j: Int, headDim: Int) -> Int {
        Int(phi_key_offset(Int64(d), Int64(j), Int64(headDim)))
    }

    /// Causal attention for all query heads; keys are cached in blocks (`keyBlock`), values
    /// [nKV][capacity][headDim], both holding past+T positions; capacity is a multiple of `keyBlock`.
    public static func attention(
        q: UnsafePointer<Float>, ldq: Int, rows T: Int, heads: Int, headDim: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, capacity: Int, kvHeads: Int, past: Int,
        window: Int = 0, scale: Float, out: UnsafeMutablePointer<Float>, ldo: Int, parallel: Parallel
    ) {
        let qp = UnsafeRawPointer(q), op = UnsafeMutableRawPointer(out)
        let kp = UnsafeRawPointer(keys), vp = UnsafeRawPointer(values)
        parallel.forRanges(heads) { h0, h1 in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Int(phi_attention_scratch_count(Int64(T), Int64(past))))
            defer { scratch.deallocate() }
            phi_attention(qp.assumingMemoryBound(to: Float.self), Int64(ldq), Int64(T), Int64(heads), Int64(headDim),
                          kp.assumingMemoryBound(to: Float.self), vp.assumingMemoryBound(to: Float.self),
                          Int64(capacity), Int64(kvHeads), Int64(past), Int64(window), scale,
                          op.assumingMemoryBound(to: Float.self), Int64(ldo), Int64(h0), Int64(h1), scratch)
        }
    }

    /// Restricts the instruction-set paths (a mask of CPU feature bits); -1 restores detection.
    public static func setCPUMask(_ mask: Int32) { phi_set_cpu_mask(mask) }
    public static var cpuFeatures: Int32 { phi_cpu_features() }
}
