import CPhiKernels
import XCTest

/// Every dense kernel under each dispatch mask (AVX2 only, AVX-512 without BF16/VNNI, everything, scalar)
/// against its scalar `_ref` twin on ragged shapes. Masks only remove features, so on a CPU without one
/// of them the run falls through to the next path and still has to match.
final class DispatchTests: XCTestCase {
    static let masks: [(name: String, mask: Int32)] = [
        ("avx2", Int32(PHI_CPU_AVX2)),
        ("avx512-no-bf16", Int32(PHI_CPU_AVX512 | PHI_CPU_AVX2)),
        ("all", -1),
        ("scalar", 0),
    ]

    struct Rand {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
        }
        mutating func array(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in next() * scale } }
    }

    /// Runs `body` once per mask; the mask is restored even if an assertion throws.
    func forEachMask(_ body: (String) throws -> Void) rethrows {
        for (name, mask) in Self.masks {
            phi_set_cpu_mask(mask)
            defer { phi_set_cpu_mask(-1) }
            try body(name)
        }
    }

    func assertClose(_ got: [Float], _ ref: [Float], abs: Float, rel: Float, _ what: @autoclosure () -> String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, ref.count, file: file, line: line)
        for i in got.indices where !(Swift.abs(got[i] - ref[i]) <= abs + rel * Swift.abs(ref[i])) {
            XCTFail("\(what()) at \(i): \(got[i]) vs ref \(ref[i])", file: file, line: line)
            return
        }
    }

    /// W [N, K] in `type`; every 7th weight is tiny so f16 rows hold subnormals.
    func weights(_ type: Int32, n: Int, k: Int, rng: inout Rand) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(n * k * (type == Int32(PHI_TYPE_F32) ? 4 : 2))
        for i in 0..<(n * k) {
            let v = rng.next() * (i % 7 == 3 ? 1e-5 : 1)
            switch type {
            case Int32(PHI_TYPE_BF16): withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { bytes += $0 }
            case Int32(PHI_TYPE_F16): withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            default: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            }
        }
        return bytes
    }

    // (T, K, N): tails in every dimension for 4×3, 6×4 and 1-row tiles; K = 100003 forces several token blocks.
    static let gemmShapes = [(1, 1, 1), (1, 17, 5), (3, 33, 7), (4, 16, 4), (5, 100, 13), (9, 31, 9), (7, 8, 12),
                             (13, 3, 11), (70, 48, 21), (2, 130, 64), (7, 100_003, 5)]

    func testGemmAllWeightTypes() {
        var rng = Rand(s: 1)
        for type in [PHI_TYPE_F32, PHI_TYPE_BF16, PHI_TYPE_F16].map({ Int32($0) }) {
            for (T, K, N) in Self.gemmShapes {
                let ldx = K + 3, ldy = N + 2, n0 = N > 4 ? 1 : 0
                let w = weights(type, n: N, k: K, rng: &rng)
                let x = rng.array(T * ldx)
                var ref = [Float](repeating: -7, count: T * ldy)
                w.withUnsafeBytes { phi_gemm_ref(x, Int64(ldx), Int64(T), Int64(K), $0.baseAddress, type, &ref, Int64(ldy), Int64(n0), Int64(N)) }
                forEachMask { mask in
                    var y = [Float](repeating: -7, count: T * ldy)
                    w.withUnsafeBytes { phi_gemm(x, Int64(ldx), Int64(T), Int64(K), $0.baseAddress, type, &y, Int64(ldy), Int64(n0), Int64(N)) }
                    assertClose(y, ref, abs: 1e-5 + 2e-5 * Float(K).squareRoot(), rel: 1e-5, "gemm \(mask) type \(type) T=\(T) K=\(K) N=\(N)")
                }
            }
        }
    }

    func testGemmBF16Activations() {
        var rng = Rand(s: 2)
        for (i, (T, K, N)) in [(1, 1, 1), (1, 33, 5), (3, 31, 7), (4, 64, 4), (5, 100, 13), (70, 48, 21), (9, 192, 9),
                               (7, 16, 12), (2, 47, 3), (7, 100_003, 5)].enumerated() {
            let ldx = K + 1, ldxb = (K + 31) / 32 * 32 + 32 * (i % 2), ldy = N + 1, n0 = N > 4 ? 2 : 0
            let x = rng.array(T * ldx)
            var xb = [UInt16](repeating: 0xFFFF, count: T * ldxb)
            phi_pack_bf16(x, Int64(ldx), Int64(T), Int64(K), &xb, Int64(ldxb))
            let w = (0..<(N * K)).map { _ in UInt16(rng.next().bitPattern >> 16) }
            var ref = [Float](repeating: -7, count: T * ldy)
            phi_gemm_bf16_ref(xb, Int64(ldxb), Int64(T), Int64(K), w, &ref, Int64(ldy), Int64(n0), Int64(N))
            forEachMask { mask in
                var y = [Float](repeating: -7, count: T * ldy)
                phi_gemm_bf16(xb, Int64(ldxb), Int64(T), Int64(K), w, &y, Int64(ldy), Int64(n0), Int64(N))
                assertClose(y, ref, abs: 1e-5 + 2e-5 * Float(K).squareRoot(), rel: 1e-5, "gemm_bf16 \(mask) T=\(T) K=\(K) N=\(N)")
            }
        }
    }

    /// The prefill path: interleaved bf16 activations and the 32-row weight-panel kernel, on shapes off every
    /// tile (rows off the row block, odd K, K over one k-panel, N off the 32-row panel, an N sub-range).
    func testGemmBF16PackedPanels() {
        var rng = Rand(s: 5)
        let mr = Int(phi_bf16_packed_rows())
        XCTAssertGreaterThan(mr, 0)
        for (T, K, N) in [(1, 1, 1), (5, 33, 7), (13, 31, 45), (37, 1, 33), (25, 100, 64), (16, 64, 32), (mr, 3, 31),
                          (2 * mr + 1, 63, 65), (30, 4099, 70), (17, 8193, 3), (100, 5000, 100)] {
            let ldx = K + 3, ldy = N + 1, n0 = N > 4 ? 2 : 0
            var x = rng.array(T * ldx)
            if T > 3 { x[ldx + 1] = .nan; x[2 * ldx] = 1e-40 } // a NaN and a denormal round like the scalar code
            let count = Int(phi_bf16_packed_count(Int64(T), Int64(K)))
            XCTAssertEqual(count, (T + mr - 1) / mr * mr * ((K + 1) / 2))
            var ref = [UInt32](repeating: 0xDEAD_BEEF, count: count)
            phi_pack_bf16_packed_ref(x, Int64(ldx), Int64(T), Int64(K), &ref, 0, Int64(T))
            // The layout itself, element by element, against the row-major rounding.
            let ldxb = (K + 31) / 32 * 32
            var xb = [UInt16](repeating: 0, count: T * ldxb)
            phi_pack_bf16(x, Int64(ldx), Int64(T), Int64(K), &xb, Int64(ldxb))
            let K2 = (K + 1) / 2
            for t in 0..<((T + mr - 1) / mr * mr) {
                for p in 0..<K2 {
                    let lo = t < T ? UInt32(xb[t * ldxb + 2 * p]) : 0
                    let hi = t < T && 2 * p + 1 < K ? UInt32(xb[t * ldxb + 2 * p + 1]) : 0
                    let v = ref[(t / mr) * mr * K2 + p * mr + t % mr]
                    if v != lo | hi << 16 { XCTFail("packed layout T=\(T) K=\(K) t=\(t) p=\(p)"); break }
                }
            }
            let w = (0..<(N * K)).map { _ in UInt16(rng.next().bitPattern >> 16) }
            var yRef = [Float](repeating: -7, count: T * ldy)
            phi_gemm_bf16_packed_ref(ref, Int64(T), Int64(K), w, &yRef, Int64(ldy), Int64(n0), Int64(N))
            // Same sums as the row-major bf16 reference (up to summation order).
            var yRow = [Float](repeating: -7, count: T * ldy)
            phi_gemm_bf16_ref(xb, Int64(ldxb), Int64(T), Int64(K), w, &yRow, Int64(ldy), Int64(n0), Int64(N))
            let nanFree = { (v: [Float]) in v.map { $0.isNaN ? 12345 : $0 } } // the NaN row stays NaN in both
            assertClose(nanFree(yRef), nanFree(yRow), abs: 1e-5 + 2e-5 * Float(K).squareRoot(), rel: 1e-5, "packed ref T=\(T) K=\(K) N=\(N)")
            forEachMask { mask in
                var packed = [UInt32](repeating: 0xDEAD_BEEF, count: count)
                for t0 in stride(from: 0, to: T, by: mr) { // block by block, as threads split it
                    phi_pack_bf16_packed(x, Int64(ldx), Int64(T), Int64(K), &packed, Int64(t0), Int64(min(T, t0 + mr)))
                }
                XCTAssertEqual(packed, ref, "pack \(mask) T=\(T) K=\(K)")
                var y = [Float](repeating: -7, count: T * ldy)
                phi_gemm_bf16_packed(packed, Int64(T), Int64(K), w, &y, Int64(ldy), Int64(n0), Int64(N))
                assertClose(nanFree(y), nanFree(yRef), abs: 1e-5 + 2e-5 * Float(K).squareRoot(), rel: 1e-5, "gemm_bf16_packed \(mask) T=\(T) K=\(K) N=\(N)")
                // All N rows in 32-row chunks taken from a counter (as threads do), with the next-chunk prefetch.
                var yAll = [Float](repeating: -7, count: T * ldy), yAllRef = yAll
                var counter: Int64 = 0
                phi_gemm_bf16_packed_chunks(packed, Int64(T), Int64(K), w, &yAll, Int64(ldy), Int64(N), 64, 2, &counter)
                phi_gemm_bf16_packed_ref(ref, Int64(T), Int64(K), w, &yAllRef, Int64(ldy), 0, Int64(N))
                assertClose(nanFree(yAll), nanFree(yAllRef), abs: 1e-5 + 2e-5 * Float(K).squareRoot(), rel: 1e-5, "gemm_bf16_packed_chunks \(mask) T=\(T) K=\(K) N=\(N)")
            }
        }
    }

    func testAttention() {
        var rng = Rand(s: 3)
        // (heads, kvHeads, headDim, past, T, capacity): head dims off the 8/16/32/64 grid, T off the 4- and 8-query tiles,
        // capacities whole key blocks (16 positions); decode and short verify calls with 3 query heads per kv head.
        for (H, KV, D, past, T, cap) in [(6, 2, 20, 5, 7, 16), (3, 1, 128, 37, 9, 64), (2, 2, 16, 0, 1, 16), (4, 2, 8, 30, 2, 48),
                                         (4, 4, 5, 3, 6, 16), (2, 1, 130, 17, 5, 48), (8, 2, 33, 0, 13, 16), (2, 2, 64, 100, 1, 128),
                                         (3, 1, 128, 10, 37, 48), (2, 1, 72, 0, 21, 32), (24, 8, 128, 300, 1, 304),
                                         (6, 2, 64, 45, 3, 48), (6, 2, 48, 33, 2, 48)] {
            let ldq = H * D + 3, ldo = H * D + 1, h0 = H > 2 ? 1 : 0
            let q = rng.array(T * ldq, scale: 2), k = rng.array(KV * cap * D), v = rng.array(KV * cap * D)
            var scratch = [Float](repeating: 0, count: Int(phi_attention_scratch_count(Int64(T), Int64(past))))
            for window in [0, 4, 1] {
                var ref = [Float](repeating: -7, count: T * ldo)
                phi_attention_ref(q, Int64(ldq), Int64(T), Int64(H), Int64(D), k, v, Int64(cap), Int64(KV), Int64(past),
                                  Int64(window), 0.3, &ref, Int64(ldo), Int64(h0), Int64(H), &scratch)
                forEachMask { mask in
                    var out = [Float](repeating: -7, count: T * ldo)
                    phi_attention(q, Int64(ldq), Int64(T), Int64(H), Int64(D), k, v, Int64(cap), Int64(KV), Int64(past),
                                  Int64(window), 0.3, &out, Int64(ldo), Int64(h0), Int64(H), &scratch)
                    assertClose(out, ref, abs: 2e-6, rel: 1e-5, "attention \(mask) H=\(H) KV=\(KV) D=\(D) past=\(past) T=\(T) window=\(window)")
                }
            }
        }
    }

    func testRotary() {
        var rng = Rand(s: 6)
        // (T, heads, headDim, rotaryDim, ld): half-dims off the 16-lane vector, partial rotary, padded rows.
        for (T, heads, D, rot, ld) in [(3, 2, 8, 8, 16), (5, 3, 96, 96, 290), (2, 4, 128, 128, 512), (4, 1, 40, 24, 41), (1, 2, 6, 2, 12)] {
            let cos = rng.array(T * rot), sin = rng.array(T * rot), x = rng.array(T * ld)
            for interleaved in [false, true] {
                var ref = x
                phi_rotary_ref(&ref, Int64(ld), Int64(T), Int64(heads), Int64(D), Int64(rot), interleaved ? 1 : 0, cos, sin)
                forEachMask { mask in
                    var y = x
                    phi_rotary(&y, Int64(ld), Int64(T), Int64(heads), Int64(D), Int64(rot), interleaved ? 1 : 0, cos, sin)
                    XCTAssertEqual(y, ref, "rotary \(mask) T=\(T) D=\(D) rot=\(rot) interleaved=\(interleaved)")
                }
            }
        }
    }

    func testSiLUMulAndRMSNorm() {
        var rng = Rand(s: 4)
        let rows = 3
        for n in [1, 7, 8, 9, 16, 17, 33, 100, 257] {
            var gu = rng.array(rows * 2 * n, scale: 12)
            gu[0] = -100 // exp(100) overflows in the reference, clamps in the vector paths: both ≈ -0
            if n > 3 { gu[1] = 95; gu[2] = -87.5; gu[3] = 0 } // subnormal exp(-87.5)
            var siluRef = [Float](repeating: 0, count: rows * n)
            phi_silu_mul_ref(gu, &siluRef, Int64(rows), Int64(n))
            let x = rng.array(rows * n, scale: 3), w = rng.array(n)
            var normRef = [Float](repeating: 0, count: rows * n)
            phi_rmsnorm_ref(x, w, &normRef, Int64(rows), Int64(n), 1e-5)
            forEachMask { mask in
                var y = [Float](repeating: -7, count: rows * n)
                phi_silu_mul(gu, &y, Int64(rows), Int64(n))
                assertClose(y, siluRef, abs: 1e-30, rel: 4e-7, "silu_mul \(mask) n=\(n)")
                phi_rmsnorm(x, w, &y, Int64(rows), Int64(n), 1e-5)
                assertClose(y, normRef, abs: 1e-7, rel: 2e-6, "rmsnorm \(mask) n=\(n)")
            }
        }
    }

    /// The masks reach distinct code: on a CPU with AVX2 (and AVX-512), the AVX2, AVX-512 and scalar sums of a long
    /// dot product round differently. A dispatcher that ignored a mask would give two identical results.
    func testMasksSelectDistinctPaths() throws {
        let f = phi_cpu_features()
        guard f & Int32(PHI_CPU_AVX2) != 0 else { throw XCTSkip("no AVX2") }
        var rng = Rand(s: 5)
        let K = 1000, N = 16
        let x = rng.array(K), w = rng.array(N * K)
        var results: [[Float]] = []
        var masks = [Int32(PHI_CPU_AVX2), 0]
        if f & Int32(PHI_CPU_AVX512) != 0 { masks.append(Int32(PHI_CPU_AVX512)) }
        for mask in masks {
            phi_set_cpu_mask(mask)
            defer { phi_set_cpu_mask(-1) }
            XCTAssertEqual(phi_cpu_features(), f & mask)
            var y = [Float](repeating: 0, count: N)
            phi_gemm(x, Int64(K), 1, Int64(K), w, Int32(PHI_TYPE_F32), &y, Int64(N), 0, Int64(N))
            results.append(y)
        }
        for i in results.indices { for j in results.indices where j > i { XCTAssertNotEqual(results[i], results[j], "masks \(masks[i]) and \(masks[j])") } }
        XCTAssertEqual(phi_cpu_features(), f)
    }
}
