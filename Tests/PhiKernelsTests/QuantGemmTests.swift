import CPhiKernels
import PhiKernels
import XCTest
import PhiTestSupport

/// Quantized products: every type × every instruction-set path on this machine × ragged shapes, against the
/// scalar reference (equal up to f32 summation order) and against an f32 product of the dequantized operands.
final class QuantGemmTests: XCTestCase {

    /// Instruction-set masks to force each path this CPU has; 0 is the scalar reference.
    static var paths: [(String, Int32)] {
        let f = phi_cpu_features()
        var p: [(String, Int32)] = [("scalar", 0)]
        if f & Int32(PHI_CPU_AVX2) != 0 { p.append(("avx2", Int32(PHI_CPU_AVX2))) }
        if f & Int32(PHI_CPU_AVX512) != 0, f & Int32(PHI_CPU_AVX512_VNNI) != 0 { p.append(("avx512", -1)) }
        if f & Int32(PHI_CPU_NEON) != 0 { p.append(("neon", Int32(PHI_CPU_NEON))) }
        if f & Int32(PHI_CPU_NEON) != 0, f & Int32(PHI_CPU_NEON_DOTPROD) != 0 { p.append(("neon-dotprod", -1)) }
        return p
    }

    override func tearDown() { phi_set_cpu_mask(-1) }

    struct Case {
        let type: Int32, T: Int, K: Int, N: Int
        var weights: [UInt8] = [], xq: [UInt8] = [], rowBytes = 0
        var ref: [Float] = [], exact: [Float] = [], scale: [Float] = []
    }

    /// Weights from GGML's quantizer on random rows (with a wide spread of row magnitudes), activations
    /// quantized for the type, the scalar reference, and the f32 product of the dequantized operands.
    func makeCase(type: Int32, T: Int, K: Int, N: Int, rng: inout LCG) -> Case {
        var c = Case(type: type, T: T, K: K, N: N)
        let qk = Int(phi_quant_block_elements(type)), rowW = K / qk * Int(phi_quant_block_bytes(type))
        var wf = [Float](repeating: 0, count: N * K)
        for n in 0..<N {
            let mag = Float(1 + n % 5)
            for k in 0..<K { wf[n * K + k] = rng.next() * mag }
        }
        c.weights = [UInt8](repeating: 0, count: N * rowW)
        for n in 0..<N {
            wf.withUnsafeBufferPointer { src in
                c.weights.withUnsafeMutableBytes { dst in
                    XCTAssertEqual(phi_quantize_ref(type, src.baseAddress! + n * K, dst.baseAddress! + n * rowW, Int64(K)), 0)
                }
            }
        }
        let x = (0..<(T * K)).map { i in rng.next() * (i % 7 == 0 ? 4 : 1) }
        c.rowBytes = Int(phi_quant_activation_row_bytes(type, Int64(K)))
        c.xq = [UInt8](repeating: 0, count: T * c.rowBytes)
        XCTAssertEqual(phi_quantize_activations(type, x, Int64(K), Int64(T), Int64(K), &c.xq, Int64(c.rowBytes)), 0)
        c.ref = [Float](repeating: .nan, count: T * N)
        XCTAssertEqual(phi_gemm_q_ref(type, c.xq, Int64(c.rowBytes), Int64(T), Int64(K), c.weights, &c.ref, Int64(N), 0, Int64(N)), 0)
        // f32 product of the dequantized operands, and Σ|x||w| per output for the tolerance.
        var wd = [Float](repeating: 0, count: N * K), xd = [Float](repeating: 0, count: T * K)
        phi_dequantize_ref(type, c.weights, &wd, Int64(N * K))
        for t in 0..<T {
            c.xq.withUnsafeBytes { q in
                xd.withUnsafeMutableBufferPointer { d in
                    _ = phi_dequantize_activations(type, q.baseAddress! + t * c.rowBytes, Int64(K), d.baseAddress! + t * K)
                }
            }
        }
        c.exact = [Float](repeating: 0, count: T * N)
        phi_gemm_ref(xd, Int64(K), Int64(T), Int64(K), wd, Int32(PHI_TYPE_F32), &c.exact, Int64(N), 0, Int64(N))
        let xa = xd.map(abs), wa = wd.map(abs)
        c.scale = [Float](repeating: 0, count: T * N)
        phi_gemm_ref(xa, Int64(K), Int64(T), Int64(K), wa, Int32(PHI_TYPE_F32), &c.scale, Int64(N), 0, Int64(N))
        return c
    }

    func check(_ got: [Float], _ c: Case, _ what: String) {
        for i in 0..<(c.T * c.N) {
            let tol = 1e-5 * c.scale[i] + 1e-6
            if !(abs(got[i] - c.ref[i]) <= tol) {
                XCTFail("\(what) type \(c.type) T=\(c.T) K=\(c.K) N=\(c.N) at t=\(i / c.N) n=\(i % c.N): \(got[i]) vs ref \(c.ref[i])")
                return
            }
        }
    }

    func testAllPathsMatchReference() {
        var rng = LCG(s: 2024)
        for type in QuantFormatTests.gemmTypes {
            let qk = Int(phi_quant_block_elements(type))
            for (T, K, N) in [(1, qk, 37), (3, 3 * qk, 21), (7, qk, 16), (70, 2 * qk, 19), (1, 4 * qk, 53), (2, qk, 5)] {
                let c = makeCase(type: type, T: T, K: K, N: N, rng: &rng)
                // The reference agrees with f32 arithmetic on the same quantized values.
                for i in 0..<(T * N) {
                    XCTAssertEqual(c.ref[i], c.exact[i], accuracy: 1e-5 * c.scale[i] + 1e-6, "ref vs f32, type \(type)")
                }
                let size = Int(phi_quant_repacked_bytes(type, Int64(N), Int64(K)))
                var packed = [UInt8](repeating: 0, count: size)
                XCTAssertEqual(phi_quant_repack(type, c.weights, Int64(N), Int64(K), &packed, 0, Int64(N)), 0)
                for (name, mask) in Self.paths {
                    phi_set_cpu_mask(mask)
                    // Whole range, and a split whose boundary is not a panel boundary (as a thread split could be).
                    var y = [Float](repeating: .nan, count: T * N)
                    XCTAssertEqual(phi_gemm_q(type, c.xq, Int64(c.rowBytes), Int64(T), Int64(K), c.weights, &y, Int64(N), 0, Int64(N)), 0)
                    check(y, c, "\(name) gemm")
                    y = [Float](repeating: .nan, count: T * N)
                    let mid = Int64(N / 3)
                    phi_gemm_q(type, c.xq, Int64(c.rowBytes), Int64(T), Int64(K), c.weights, &y, Int64(N), mid, Int64(N))
                    phi_gemm_q(type, c.xq, Int64(c.rowBytes), Int64(T), Int64(K), c.weights, &y, Int64(N), 0, mid)
                    check(y, c, "\(name) split gemm")
                    y = [Float](repeating: .nan, count: T * N)
                    XCTAssertEqual(phi_gemm_q_repacked(type, c.xq, Int64(c.rowBytes), Int64(T), Int64(K), packed, &y, Int64(N), 0, Int64(N)), 0)
                    check(y, c, "\(name) repacked")
                }
                phi_set_cpu_mask(-1)
            }
        }
    }

    /// GGML rows and repacked panels give bit-identical products on every path, also when the tokens span
    /// several of the driver's token blocks (K = 8192 makes a block about 50 tokens), so a model can switch
    /// layouts between two tokens without changing any output.
    func testGGMLRowsAndRepackedPanelsAreBitIdentical() {
        var rng = LCG(s: 31)
        for type in QuantFormatTests.gemmTypes {
            let K = 8192, N = 37, T = 120
            let c = makeCase(type: type, T: T, K: K, N: N, rng: &rng)
            var packed = [UInt8](repeating: 0, count: Int(phi_quant_repacked_bytes(type, Int64(N), Int64(K))))
            XCTAssertEqual(phi_quant_repack(type, c.weights, Int64(N), Int64(K), &packed, 0, Int64(N)), 0)
            for (name, mask) in Self.paths {
                phi_set_cpu_mask(mask)
                for (t, n0, n1) in [(T, 0, N), (1, 0, N), (T, 16, 35)] {
                    var a = [Float](repeating: .nan, count: t * N), b = a
                    XCTAssertEqual(phi_gemm_q(type, c.xq, Int64(c.rowBytes), Int64(t), Int64(K), c.weights, &a, Int64(N), Int64(n0), Int64(n1)), 0)
                    XCTAssertEqual(phi_gemm_q_repacked(type, c.xq, Int64(c.rowBytes), Int64(t), Int64(K), packed, &b, Int64(N), Int64(n0), Int64(n1)), 0)
                    let same = zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                    XCTAssertTrue(same, "type \(type) \(name) T \(t) rows \(n0)..<\(n1)")
                    XCTAssertFalse(a[(t - 1) * N + n0].isNaN, "type \(type) \(name): outputs written")
                }
            }
            phi_set_cpu_mask(-1)
        }
    }

    /// Rows outside [n0, n1) and columns beyond N in a wider y are never written.
    func testOnlyRequestedOutputsAreWritten() {
        var rng = LCG(s: 9)
        for type in QuantFormatTests.gemmTypes {
            let qk = Int(phi_quant_block_elements(type))
            let c = makeCase(type: type, T: 3, K: qk, N: 40, rng: &rng)
            let ldy = 45
            for (_, mask) in Self.paths {
                phi_set_cpu_mask(mask)
                var y = [Float](repeating: -99, count: 3 * ldy)
                phi_gemm_q(type, c.xq, Int64(c.rowBytes), 3, Int64(qk), c.weights, &y, Int64(ldy), 5, 23)
                for t in 0..<3 {
                    for n in 0..<ldy where n < 5 || n >= 23 { XCTAssertEqual(y[t * ldy + n], -99) }
                    for n in 5..<23 { XCTAssertEqual(y[t * ldy + n], c.ref[t * 40 + n], accuracy: 1e-5 * c.scale[t * 40 + n] + 1e-6) }
                }
            }
            phi_set_cpu_mask(-1)
        }
    }

    func testSwiftWrapperThreadsMatchReference() throws {
        var rng = LCG(s: 77)
        let parallel = Parallel(threads: 2)
        for type in QuantFormatTests.gemmTypes {
            let dtype = try XCTUnwrap(DType(ggmlType: Int(type)))
            let qk = Int(phi_quant_block_elements(type)), K = 2 * qk, N = 50, T = 5
            let x = (0..<(T * (K + 3))).map { _ in rng.next() }
            let wf = (0..<(N * K)).map { _ in rng.next() }
            let rowW = K / qk * dtype.blockBytes
            var w = [UInt8](repeating: 0, count: N * rowW)
            try QuantKernels.quantize(type: dtype, source: wf, destination: &w, count: N * K)
            var packed = [UInt8](repeating: 0, count: QuantKernels.repackedByteCount(type: dtype, n: N, k: K))
            try QuantKernels.repack(weight: w, type: dtype, n: N, k: K, into: &packed, parallel: parallel)
            var y1 = [Float](repeating: .nan, count: T * N), y2 = y1, ref = y1
            try QuantKernels.matmul(x: x, ldx: K + 3, rows: T, k: K, weight: w, type: dtype, n: N, y: &y1, ldy: N, parallel: parallel)
            try QuantKernels.matmulRepacked(x: x, ldx: K + 3, rows: T, k: K, weight: packed, type: dtype, n: N, y: &y2, ldy: N, parallel: parallel)
            let rb = QuantKernels.activationRowBytes(type: dtype, k: K)
            var xq = [UInt8](repeating: 0, count: T * rb)
            phi_quantize_activations(type, x, Int64(K + 3), Int64(T), Int64(K), &xq, Int64(rb))
            phi_gemm_q_ref(type, xq, Int64(rb), Int64(T), Int64(K), w, &ref, Int64(N), 0, Int64(N))
            for i in ref.indices {
                XCTAssertEqual(y1[i], ref[i], accuracy: 1e-4 * max(1, abs(ref[i])), "type \(type)")
                XCTAssertEqual(y2[i], ref[i], accuracy: 1e-4 * max(1, abs(ref[i])), "type \(type)")
            }
            // Dequantize wrapper agrees with the C reference.
            var d = [Float](repeating: 0, count: K), dref = d
            try QuantKernels.dequantize(type: dtype, source: w, destination: &d, count: K)
            phi_dequantize_ref(type, w, &dref, Int64(K))
            XCTAssertEqual(d, dref)
        }
    }
}
