import CPhiKernels
import PhiKernels
import XCTest
import PhiTestSupport

/// Every fast path against its scalar reference, on ragged shapes.
final class GemmTests: XCTestCase {

    func makeWeights(_ type: DType, n: Int, k: Int, rng: inout LCG) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<(n * k) {
            let v = rng.next()
            switch type {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            case .bf16: withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { bytes += $0 }
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            default: XCTFail("not a dense type: \(type)")
            }
        }
        return bytes
    }

    func testGemmMatchesReferenceOnRaggedShapes() {
        var rng = LCG(s: 42)
        let shapes = [(1, 1, 1), (1, 17, 5), (3, 33, 7), (4, 16, 4), (5, 100, 13), (9, 31, 9), (70, 48, 21), (2, 130, 64)]
        for type in [DType.f32, .bf16, .f16] {
            for (T, K, N) in shapes {
                let w = makeWeights(type, n: N, k: K, rng: &rng)
                let x = (0..<(T * K)).map { _ in rng.next() }
                var fast = [Float](repeating: .nan, count: T * N)
                var ref = [Float](repeating: .nan, count: T * N)
                w.withUnsafeBytes { wb in
                    x.withUnsafeBufferPointer { xb in
                        phi_gemm(xb.baseAddress, Int64(K), Int64(T), Int64(K), wb.baseAddress, type.id, &fast, Int64(N), 0, Int64(N))
                        phi_gemm_ref(xb.baseAddress, Int64(K), Int64(T), Int64(K), wb.baseAddress, type.id, &ref, Int64(N), 0, Int64(N))
                    }
                }
                for i in 0..<(T * N) {
                    XCTAssertEqual(fast[i], ref[i], accuracy: 1e-4 * Float(K).squareRoot() + 1e-5,
                                   "type \(type) T=\(T) K=\(K) N=\(N) at \(i)")
                }
            }
        }
    }

    func testBF16DotProductsMatchReference() {
        var rng = LCG(s: 11)
        for (T, K, N) in [(1, 1, 1), (1, 33, 5), (3, 31, 7), (4, 64, 4), (5, 100, 13), (70, 48, 21), (9, 3072 / 16, 9)] {
            let w = makeWeights(.bf16, n: N, k: K, rng: &rng)
            let x = (0..<(T * K)).map { _ in rng.next() }
            let ldxb = (K + 31) / 32 * 32
            var xb = [UInt16](repeating: 0xFFFF, count: T * ldxb)
            phi_pack_bf16(x, Int64(K), Int64(T), Int64(K), &xb, Int64(ldxb))
            for t in 0..<T {
                for k in 0..<ldxb {
                    let expected: UInt16 = k < K ? UInt16(truncatingIfNeeded: (x[t * K + k].bitPattern &+ 0x7FFF &+ ((x[t * K + k].bitPattern >> 16) & 1)) >> 16) : 0
                    XCTAssertEqual(xb[t * ldxb + k], expected)
                }
            }
            var fast = [Float](repeating: .nan, count: T * N), ref = fast
            w.withUnsafeBytes { wb in
                let wp = wb.bindMemory(to: UInt16.self).baseAddress
                phi_gemm_bf16(xb, Int64(ldxb), Int64(T), Int64(K), wp, &fast, Int64(N), 0, Int64(N))
                phi_gemm_bf16_ref(xb, Int64(ldxb), Int64(T), Int64(K), wp, &ref, Int64(N), 0, Int64(N))
            }
            for i in fast.indices {
                XCTAssertEqual(fast[i], ref[i], accuracy: 1e-4 * Float(K).squareRoot() + 1e-5, "T=\(T) K=\(K) N=\(N)")
            }
            // And the bf16-activation product stays close to the f32-activation one.
            var exact = [Float](repeating: 0, count: T * N)
            w.withUnsafeBytes { wb in
                phi_gemm_ref(x, Int64(K), Int64(T), Int64(K), wb.baseAddress, DType.bf16.id, &exact, Int64(N), 0, Int64(N))
            }
            for i in fast.indices { XCTAssertEqual(fast[i], exact[i], accuracy: 0.01 * Float(K).squareRoot()) }
        }
    }

    func testThreadedMatmulEqualsSingleThread() {
        var rng = LCG(s: 7)
        let T = 6, K = 77, N = 53
        let w = makeWeights(.bf16, n: N, k: K, rng: &rng)
        let x = (0..<(T * K)).map { _ in rng.next() }
        var one = [Float](repeating: 0, count: T * N), two = one
        w.withUnsafeBytes { wb in
            Kernels.matmul(x: x, ldx: K, rows: T, k: K, weight: wb.baseAddress!, type: .bf16, n: N, y: &one, ldy: N, parallel: Parallel(threads: 1))
            Kernels.matmul(x: x, ldx: K, rows: T, k: K, weight: wb.baseAddress!, type: .bf16, n: N, y: &two, ldy: N, parallel: Parallel(threads: 3))
        }
        XCTAssertEqual(one, two)
    }

    func testPrefillMatmulMatchesDotProductPath() {
        // Kernels.matmul switches to the packed panel kernel for many rows on AVX512-BF16 CPUs; whichever
        // path runs, threaded and single-threaded results agree and match the bf16 reference.
        var rng = LCG(s: 9)
        for (T, K, N) in [(16, 77, 53), (40, 33, 100), (70, 301, 65)] {
            let w = makeWeights(.bf16, n: N, k: K, rng: &rng)
            let x = (0..<(T * K)).map { _ in rng.next() }
            var one = [Float](repeating: 0, count: T * N), two = one, ref = one
            let ldxb = (K + 31) / 32 * 32
            var xb = [UInt16](repeating: 0, count: T * ldxb)
            phi_pack_bf16(x, Int64(K), Int64(T), Int64(K), &xb, Int64(ldxb))
            w.withUnsafeBytes { wb in
                Kernels.matmul(x: x, ldx: K, rows: T, k: K, weight: wb.baseAddress!, type: .bf16, n: N, y: &one, ldy: N, parallel: Parallel(threads: 1))
                Kernels.matmul(x: x, ldx: K, rows: T, k: K, weight: wb.baseAddress!, type: .bf16, n: N, y: &two, ldy: N, parallel: Parallel(threads: 3))
                phi_gemm_bf16_ref(xb, Int64(ldxb), Int64(T), Int64(K), wb.bindMemory(to: UInt16.self).baseAddress, &ref, Int64(N), 0, Int64(N))
            }
            XCTAssertEqual(one, two, "T=\(T) K=\(K) N=\(N)")
            for i in one.indices {
                XCTAssertEqual(one[i], ref[i], accuracy: 1e-4 * Float(K).squareRoot() + 1e-5, "T=\(T) K=\(K) N=\(N)")
            }
        }
    }

    func testScalarFallbackIsSelectable() {
        // With every SIMD path masked off the dispatcher must still give the reference answer.
        Kernels.setCPUMask(0)
        defer { Kernels.setCPUMask(-1) }
        XCTAssertEqual(Kernels.cpuFeatures, 0)
        let x: [Float] = [1, 2, 3], w: [Float] = [1, 0, 0, 0, 1, 0, 1, 1, 1]
        var y = [Float](repeating: 0, count: 3)
        phi_gemm(x, 3, 1, 3, w, 0, &y, 3, 0, 3)
        XCTAssertEqual(y, [1, 2, 6])
    }

    func testAttentionMatchesReference() {
        var rng = LCG(s: 3)
        // Capacities are whole key blocks (16 positions); (3, 1, 128, 37, 9, 64) has 3 query heads per kv head, as Phi-4.
        for (heads, kv, D, past, T, cap) in [(6, 2, 20, 5, 7, 16), (3, 1, 128, 37, 9, 64), (2, 2, 16, 0, 1, 16), (4, 2, 8, 30, 2, 48),
                                             (3, 1, 128, 200, 1, 208), (12, 4, 32, 70, 3, 80)] {
            checkAttention(heads: heads, kv: kv, D: D, past: past, T: T, cap: cap, rng: &rng)
        }
    }

    func checkAttention(heads: Int, kv: Int, D: Int, past: Int, T: Int, cap: Int, rng: inout LCG) {
        let q = (0..<(T * heads * D)).map { _ in rng.next() }
        let k = (0..<(kv * cap * D)).map { _ in rng.next() }
        let v = (0..<(kv * cap * D)).map { _ in rng.next() }
        for window in [0, 4] {
            var fast = [Float](repeating: 0, count: T * heads * D), ref = fast
            var scratch = [Float](repeating: 0, count: Int(phi_attention_scratch_count(Int64(T), Int64(past))))
            phi_attention(q, Int64(heads * D), Int64(T), Int64(heads), Int64(D), k, v, Int64(cap), Int64(kv), Int64(past), Int64(window), 0.3, &fast, Int64(heads * D), 0, Int64(heads), &scratch)
            phi_attention_ref(q, Int64(heads * D), Int64(T), Int64(heads), Int64(D), k, v, Int64(cap), Int64(kv), Int64(past), Int64(window), 0.3, &ref, Int64(heads * D), 0, Int64(heads), &scratch)
            for i in fast.indices { XCTAssertEqual(fast[i], ref[i], accuracy: 1e-5) }
            // Check one query against a direct softmax: the last head, the last query.
            let h = heads - 1, t = T - 1, pos = past + t, g = h / (heads / kv)
            let j0 = window > 0 ? max(0, pos - window + 1) : 0
            var scores: [Double] = []
            for j in j0...pos {
                var s = 0.0
                for d in 0..<D { s += Double(q[t * heads * D + h * D + d]) * Double(k[g * D * cap + Kernels.keyOffset(dim: d, position: j, headDim: D)]) }
                scores.append(s * 0.3)
            }
            let mx = scores.max()!
            let e = scores.map { Foundation.exp($0 - mx) }
            let z = e.reduce(0, +)
            for d in 0..<D {
                var o = 0.0
                for (i, j) in (j0...pos).enumerated() { o += e[i] / z * Double(v[(g * cap + j) * D + d]) }
                XCTAssertEqual(Double(fast[t * heads * D + h * D + d]), o, accuracy: 1e-5)
            }
        }
    }

    func testRMSNormAndSiLU() {
        let x: [Float] = [1, -2, 3, 4]
        let w: [Float] = [1, 0.5, 2, 1]
        var y = [Float](repeating: 0, count: 4)
        Kernels.rmsNorm(x: x, weight: w, y: &y, rows: 1, n: 4, eps: 1e-5)
        let r = 1 / ((1 + 4 + 9 + 16) / 4.0 + 1e-5).squareRoot()
        for i in 0..<4 { XCTAssertEqual(Double(y[i]), Double(x[i]) * r * Double(w[i]), accuracy: 1e-6) }
        let gu: [Float] = [0.5, -1, 2, 3]
        var m = [Float](repeating: 0, count: 2)
        Kernels.siluGateUp(gu: gu, out: &m, rows: 1, half: 2)
        XCTAssertEqual(Double(m[0]), 0.5 / (1 + Foundation.exp(-0.5)) * 2, accuracy: 1e-6)
        XCTAssertEqual(Double(m[1]), -1 / (1 + Foundation.exp(1.0)) * 3, accuracy: 1e-6)
    }
}
