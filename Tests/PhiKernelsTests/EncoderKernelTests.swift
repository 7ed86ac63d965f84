import CPhiKernels
import Foundation
import PhiKernels
import XCTest
import PhiTestSupport

/// Encoder kernels (GELU, SiLU, LayerNorm, softmax rows, full attention) against scalar references.
final class EncoderKernelTests: XCTestCase {
    func values(_ n: Int, scale: Float = 6, seed: UInt64 = 7) -> [Float] {
        var rng = LCG(s: seed)
        return (0..<n).map { _ in rng.next() * scale }
    }

    func testActivationsMatchReference() {
        for n in [1, 15, 16, 17, 100, 1031] {
            let x = values(n) + [0, -0.0, 30, -30, 1e-7]
            for (fast, ref, name) in [(phi_gelu_tanh, phi_gelu_tanh_ref, "gelu_tanh"), (phi_gelu_erf, phi_gelu_erf_ref, "gelu_erf"),
                                      (phi_silu, phi_silu_ref, "silu")] {
                var a = x, b = x
                fast(&a, Int64(a.count))
                ref(&b, Int64(b.count))
                for i in 0..<a.count {
                    XCTAssertEqual(a[i], b[i], accuracy: 2e-6 * max(1, abs(b[i])), "\(name) n=\(n) x=\(x[i])")
                }
            }
        }
        // Spot values from PyTorch: gelu(1) = 0.8413447, gelu_tanh(1) = 0.8411920, silu(1) = 0.7310586.
        var g: [Float] = [1], t: [Float] = [1], s: [Float] = [1]
        phi_gelu_erf(&g, 1); phi_gelu_tanh(&t, 1); phi_silu(&s, 1)
        XCTAssertEqual(g[0], 0.8413447, accuracy: 1e-6)
        XCTAssertEqual(t[0], 0.8411920, accuracy: 1e-6)
        XCTAssertEqual(s[0], 0.7310586, accuracy: 1e-6)
    }

    func testLayerNormAndSoftmaxMatchReference() {
        for (rows, n) in [(1, 1), (3, 17), (2, 64), (5, 1152)] {
            let x = values(rows * n, scale: 3).map { $0 + 2 }
            let w = values(n, scale: 1, seed: 3), b = values(n, scale: 1, seed: 4)
            var fast = [Float](repeating: 0, count: rows * n), ref = fast
            phi_layernorm(x, w, b, &fast, Int64(rows), Int64(n), 1e-5)
            phi_layernorm_ref(x, w, b, &ref, Int64(rows), Int64(n), 1e-5)
            for i in 0..<fast.count { XCTAssertEqual(fast[i], ref[i], accuracy: 2e-5, "layernorm \(rows)x\(n)") }
            var sf = x, sr = x
            phi_softmax_rows(&sf, Int64(rows), Int64(n), Int64(n), 0.5)
            phi_softmax_rows_ref(&sr, Int64(rows), Int64(n), Int64(n), 0.5)
            for i in 0..<sf.count { XCTAssertEqual(sf[i], sr[i], accuracy: 1e-6, "softmax \(rows)x\(n)") }
            for r in 0..<rows { XCTAssertEqual(sf[(r * n)..<((r + 1) * n)].reduce(0, +), 1, accuracy: 1e-5) }
        }
    }

    /// Full attention (f32 and bf16, with and without an additive bias) against a naive double-precision loop.
    func testFullAttentionMatchesNaive() {
        for (T, S, heads, D) in [(1, 1, 1, 4), (5, 7, 2, 16), (33, 20, 3, 72), (64, 64, 2, 64)] {
            let W = heads * D
            let q = values(T * W, scale: 1, seed: 11), k = values(S * W, scale: 1, seed: 12), v = values(S * W, scale: 1, seed: 13)
            let scale = 1 / Float(D).squareRoot()
            for useBias in [false, true] {
                let bias: ((Int, UnsafeMutablePointer<Float>) -> Void)? = useBias ? { h, s in
                    for i in 0..<T { for j in 0..<S { s[i * S + j] += Float((j - i + h) % 5) * 0.1 } }
                } : nil
                var expected = [Double](repeating: 0, count: T * W)
                for h in 0..<heads {
                    for i in 0..<T {
                        var sc = (0..<S).map { j -> Double in
                            var d = 0.0
                            for e in 0..<D { d += Double(q[i * W + h * D + e]) * Double(k[j * W + h * D + e]) }
                            return d * Double(scale) + (useBias ? Double(Float((j - i + h) % 5) * 0.1) : 0)
                        }
                        let m = sc.max() ?? 0
                        sc = sc.map { exp($0 - m) }
                        let sum = sc.reduce(0, +)
                        for e in 0..<D {
                            var acc = 0.0
                            for j in 0..<S { acc += sc[j] / sum * Double(v[j * W + h * D + e]) }
                            expected[i * W + h * D + e] = acc
                        }
                    }
                }
                for bf16 in [false, true] {
                    var out = [Float](repeating: .nan, count: T * W)
                    Kernels.fullAttention(q: q, ldq: W, k: k, ldk: W, v: v, ldv: W, queries: T, keys: S, heads: heads, headDim: D,
                                          scale: scale, bf16: bf16, bias: bias, out: &out, ldo: W, parallel: Parallel(threads: 2))
                    let tol: Double = bf16 ? 3e-2 : 1e-5
                    for i in 0..<out.count {
                        XCTAssertEqual(Double(out[i]), expected[i], accuracy: tol, "T=\(T) S=\(S) h=\(heads) D=\(D) bias=\(useBias) bf16=\(bf16)")
                    }
                }
            }
        }
    }
}
