import CPhiKernels
import Foundation
import PhiKernels
import XCTest

/// Block formats: sizes, gguf-py golden (de)quantization, round-trip error, repacking, bad input.
final class QuantFormatTests: XCTestCase {
    static let gemmTypes: [Int32] = [2, 3, 6, 8, 12, 13, 14] // Q4_0 Q4_1 Q5_0 Q8_0 Q4_K Q5_K Q6_K

    func bytes(_ b64: String) -> [UInt8] { [UInt8](Data(base64Encoded: b64)!) }
    func floats(_ b64: String) -> [Float] {
        bytes(b64).withUnsafeBytes { raw in (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
    }

    func testBlockSizesAreGGMLs() {
        let expected: [Int32: (Int64, Int64)] = [0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 8: (32, 34),
                                                 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292)]
        for (t, (qk, bs)) in expected {
            XCTAssertEqual(phi_quant_block_elements(t), qk)
            XCTAssertEqual(phi_quant_block_bytes(t), bs)
        }
        for t: Int32 in [-1, 4, 7, 9, 10, 11, 16, 99] { XCTAssertEqual(phi_quant_block_bytes(t), 0) }
        XCTAssertEqual(phi_quant_activation_type(2), 8)
        XCTAssertEqual(phi_quant_activation_type(8), 8)
        XCTAssertEqual(phi_quant_activation_type(6), 8)
        XCTAssertEqual(phi_quant_activation_type(3), 9)
        for t: Int32 in [12, 13, 14] { XCTAssertEqual(phi_quant_activation_type(t), 15) }
        XCTAssertEqual(phi_quant_activation_type(0), -1)
    }

    func testHalfConversionMatchesFloat16() {
        for h in 0...UInt16.max {
            let f = phi_f16_to_f32(h), ref = Float(Float16(bitPattern: h))
            if ref.isNaN { XCTAssertTrue(f.isNaN); continue }
            XCTAssertEqual(f.bitPattern, ref.bitPattern, "h=\(h)")
            XCTAssertEqual(phi_f32_to_f16(f), h)
        }
        var s: UInt64 = 7
        for i in 0..<50_000 { // random bit patterns around the f16 range, including subnormals and ties
            s = s &* 6364136223846793005 &+ 1442695040888963407
            var bits = UInt32(truncatingIfNeeded: s >> 32)
            bits = (bits & 0x807F_FFFF) | (UInt32(0x60 + Int(bits >> 23 & 0x3F)) << 23)
            if i % 4 == 0 { bits &= 0xFFFF_E000; bits |= 0x1000 } // exact halfway cases
            let f = Float(bitPattern: bits)
            XCTAssertEqual(phi_f32_to_f16(f), Float16(f).bitPattern, "f=\(f)")
        }
    }

    func testDequantizeMatchesGGUFPy() {
        for c in QuantFixtureData.dequantize {
            let blocks = bytes(c.blocks), expected = floats(c.values)
            var out = [Float](repeating: .nan, count: expected.count)
            phi_dequantize_ref(Int32(c.type), blocks, &out, Int64(expected.count))
            for i in expected.indices {
                XCTAssertEqual(out[i].bitPattern, expected[i].bitPattern, "type \(c.type) value \(i): \(out[i]) vs \(expected[i])")
            }
        }
    }

    /// Every type with products has golden data for its dequantizer.
    func testEveryProductTypeHasGGUFPyFixtures() {
        XCTAssertEqual(Set(QuantFixtureData.dequantize.map { Int32($0.type) }), Set(Self.gemmTypes))
        XCTAssertTrue(QuantFixtureData.quantize.contains { $0.type == 6 }, "Q5_0 quantizer fixture")
    }

    func testQuantizeMatchesGGUFPy() {
        for c in QuantFixtureData.quantize {
            let x = floats(c.input), expected = bytes(c.blocks)
            var out = [UInt8](repeating: 0xAA, count: expected.count)
            XCTAssertEqual(phi_quantize_ref(Int32(c.type), x, &out, Int64(x.count)), 0)
            XCTAssertEqual(out, expected, "type \(c.type)")
        }
    }

    /// quantize → dequantize stays within each format's error; the RMS bounds are ~1.5× what GGML's
    /// quantizers reach on Gaussian data.
    func testRoundTripError() {
        let bounds: [Int32: Float] = [2: 0.15, 3: 0.12, 6: 0.08, 8: 0.012, 12: 0.1, 13: 0.05, 14: 0.03, 15: 0.012, 1: 0.001, 30: 0.006]
        var rng = SystemRandomNumberGenerator()
        let n = 4096
        let x = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) * Float.random(in: 0...1, using: &rng) * 3 }
        let rms = (x.map { $0 * $0 }.reduce(0, +) / Float(n)).squareRoot()
        for (t, bound) in bounds {
            let bytes = n / Int(phi_quant_block_elements(t)) * Int(phi_quant_block_bytes(t))
            var q = [UInt8](repeating: 0, count: bytes), y = [Float](repeating: .nan, count: n)
            XCTAssertEqual(phi_quantize_ref(t, x, &q, Int64(n)), 0)
            phi_dequantize_ref(t, q, &y, Int64(n))
            let err = (zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(n)).squareRoot() / rms
            XCTAssertLessThan(err, bound, "type \(t)")
            XCTAssertGreaterThanOrEqual(err, 0)
            // Zero rows stay zero.
            var zq = [UInt8](repeating: 0xFF, count: bytes), zy = [Float](repeating: .nan, count: n)
            XCTAssertEqual(phi_quantize_ref(t, [Float](repeating: 0, count: n), &zq, Int64(n)), 0)
            phi_dequantize_ref(t, zq, &zy, Int64(n))
            XCTAssertTrue(zy.allSatisfy { $0 == 0 }, "type \(t)")
        }
    }

    /// The activation formats carry exactly GGML's Q8_0 / Q8_K values.
    func testActivationsAreGGMLQuantized() {
        var s: UInt64 = 3
        let K = 512
        let x = (0..<K).map { i -> Float in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / Float(50 + i % 300)
        }
        for t in Self.gemmTypes {
            let k8: Int32 = phi_quant_activation_type(t) == 15 ? 15 : 8
            let qk = Int(phi_quant_block_elements(k8)), bs = Int(phi_quant_block_bytes(k8))
            var blocks = [UInt8](repeating: 0, count: K / qk * bs)
            XCTAssertEqual(phi_quantize_ref(k8, x, &blocks, Int64(K)), 0)
            let rb = Int(phi_quant_activation_row_bytes(t, Int64(K)))
            XCTAssertEqual(rb % 64, 0)
            var row = [UInt8](repeating: 0xEE, count: rb)
            XCTAssertEqual(phi_quantize_activations(t, x, Int64(K), 1, Int64(K), &row, Int64(rb)), 0)
            for b in 0..<(K / qk) {
                let off = b * bs
                let d: Float = k8 == 15
                    ? blocks.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: off, as: Float.self) }
                    : phi_f16_to_f32(UInt16(blocks[off]) | UInt16(blocks[off + 1]) << 8)
                let rowD = row.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: K + 4 * b, as: Float.self) }
                XCTAssertEqual(rowD.bitPattern, d.bitPattern, "type \(t) block \(b)")
                let qOff = off + (k8 == 15 ? 4 : 2)
                XCTAssertEqual(Array(row[(b * qk)..<((b + 1) * qk)]), Array(blocks[qOff..<(qOff + qk)]), "type \(t)")
            }
            var back = [Float](repeating: 0, count: K)
            XCTAssertEqual(phi_dequantize_activations(t, row, Int64(K), &back), 0)
            var ref = [Float](repeating: 0, count: K)
            phi_dequantize_ref(k8, blocks, &ref, Int64(K))
            XCTAssertEqual(back, ref)
        }
    }

    /// The vectorized activation quantizer is bit-identical to the scalar one, rounding ties included.
    func testActivationQuantizationPathsAgree() {
        let K = 768, T = 6
        var s: UInt64 = 11
        var x = [Float](repeating: 0, count: T * K)
        for i in x.indices {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let r = Float(Int64(bitPattern: s >> 20) % 509 - 254)
            switch i / K {
            case 0: x[i] = i % 32 == 0 ? 15.875 : r / 16 // d = 1/8: x·(1/d) hits every .5 tie
            case 1: x[i] = r / 7
            case 2: x[i] = i % 256 == 3 ? -9 : (i % 256 == 7 ? 9 : r / 100) // ±max: the first one sets the sign
            case 3: x[i] = 0
            default: x[i] = r * 1e-3 * Float(i % 13)
            }
        }
        for t in Self.gemmTypes {
            let rb = Int(phi_quant_activation_row_bytes(t, Int64(K)))
            var a = [UInt8](repeating: 1, count: T * rb), b = [UInt8](repeating: 2, count: T * rb)
            phi_set_cpu_mask(0)
            XCTAssertEqual(phi_quantize_activations(t, x, Int64(K), Int64(T), Int64(K), &a, Int64(rb)), 0)
            phi_set_cpu_mask(-1)
            XCTAssertEqual(phi_quantize_activations(t, x, Int64(K), Int64(T), Int64(K), &b, Int64(rb)), 0)
            XCTAssertEqual(a, b, "type \(t)")
        }
    }

    func testRepackRoundTrip() {
        var s: UInt64 = 5
        for t in Self.gemmTypes {
            let qk = Int(phi_quant_block_elements(t)), K = 2 * qk, N = 37
            let rowBytes = K / qk * Int(phi_quant_block_bytes(t))
            let w = (0..<(N * rowBytes)).map { _ -> UInt8 in s = s &* 6364136223846793005 &+ 1; return UInt8(truncatingIfNeeded: s >> 56) }
            let size = Int(phi_quant_repacked_bytes(t, Int64(N), Int64(K)))
            XCTAssertGreaterThanOrEqual(size, 48 * rowBytes) // 37 rows padded to 3 panels
            var r = [UInt8](repeating: 0, count: size)
            XCTAssertEqual(phi_quant_repack(t, w, Int64(N), Int64(K), &r, 16, Int64(N)), 0)
            XCTAssertEqual(phi_quant_repack(t, w, Int64(N), Int64(K), &r, 0, 16), 0)
            var row = [UInt8](repeating: 0, count: rowBytes)
            for n in 0..<N {
                XCTAssertEqual(phi_quant_unpack_row(t, r, Int64(K), Int64(n), &row), 0)
                XCTAssertEqual(row, Array(w[(n * rowBytes)..<((n + 1) * rowBytes)]), "type \(t) row \(n)")
            }
        }
    }

    func testInvalidInputsAreRejected() {
        var y = [Float](repeating: 7, count: 64), q = [UInt8](repeating: 0, count: 4096), x = [Float](repeating: 1, count: 512)
        for t: Int32 in [-1, 0, 1, 4, 15, 30, 99] { // no product kernel (Q8_K is activations only)
            XCTAssertEqual(phi_quant_check(t, 256), -1)
            XCTAssertEqual(phi_quant_activation_row_bytes(t, 256), 0)
            XCTAssertEqual(phi_quantize_activations(t, x, 256, 1, 256, &q, 4096), -1)
            XCTAssertEqual(phi_gemm_q(t, q, 4096, 1, 256, q, &y, 1, 0, 1), -1)
            XCTAssertEqual(phi_gemm_q_ref(t, q, 4096, 1, 256, q, &y, 1, 0, 1), -1)
            XCTAssertEqual(phi_gemm_q_repacked(t, q, 4096, 1, 256, q, &y, 1, 0, 1), -1)
            XCTAssertEqual(phi_quant_repacked_bytes(t, 16, 256), 0)
        }
        for t in Self.gemmTypes {
            let qk = phi_quant_block_elements(t)
            for K in [0, qk / 2, qk + 1, -qk] {
                XCTAssertEqual(phi_quant_check(t, K), -1)
                XCTAssertEqual(phi_gemm_q(t, q, 4096, 1, K, q, &y, 1, 0, 1), -1)
                XCTAssertEqual(phi_quantize_activations(t, x, 512, 1, K, &q, 4096), -1)
            }
            XCTAssertEqual(phi_quantize_ref(t, x, &q, qk + 1), -1)
            XCTAssertEqual(phi_gemm_q(t, q, 4096, 1, qk, q, &y, 1, 2, 1), -1) // n1 < n0
            XCTAssertEqual(phi_gemm_q(t, q, 8, 1, qk, q, &y, 1, 0, 1), -1)    // ldxq below a row
            var dst = [UInt8](repeating: 0, count: 16)
            XCTAssertEqual(phi_quant_repack(t, q, 32, qk, &dst, 8, 32), -1)    // n0 not a panel start
            XCTAssertEqual(phi_quant_repack(t, q, 32, qk, &dst, 0, 40), -1)    // beyond N
        }
        XCTAssertTrue(y.allSatisfy { $0 == 7 })
        var out = [Float](repeating: 3, count: 64)
        phi_dequantize_ref(2, q, &out, 33) // not a whole block: no-op
        phi_dequantize_ref(99, q, &out, 32)
        XCTAssertTrue(out.allSatisfy { $0 == 3 })
        XCTAssertEqual(phi_quantize_ref(99, x, &q, 32), -1)
        XCTAssertEqual(phi_quantize_ref(7, x, &q, 32), -1) // Q5_1: no row in the table
        XCTAssertThrowsError(try QuantKernels.dequantize(type: .q4_0, source: q, destination: &out, count: 31))
        XCTAssertThrowsError(try QuantKernels.quantize(type: .q4_0, source: x, destination: &q, count: 31))
        XCTAssertThrowsError(try QuantKernels.matmul(x: x, ldx: 48, rows: 1, k: 48, weight: q, type: .q4_0, n: 1,
                                                     y: &out, ldy: 1, parallel: Parallel(threads: 2)))
        XCTAssertThrowsError(try QuantKernels.matmul(x: x, ldx: 64, rows: 1, k: 64, weight: q, type: .f16, n: 1,
                                                     y: &out, ldy: 1, parallel: Parallel(threads: 2)))
    }
}
