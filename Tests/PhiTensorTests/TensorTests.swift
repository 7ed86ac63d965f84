import PhiTensor
import PhiTestSupport
import XCTest

/// Element conversions and block dequantization, against values worked out by hand.
final class TensorTests: XCTestCase {
    func testHalfAndBFloatConversions() {
        XCTAssertEqual(Convert.bf16ToF32(0x3FC0), 1.5)
        XCTAssertEqual(Convert.bf16ToF32(0xC000), -2)
        XCTAssertEqual(Convert.f16ToF32(0x3C00), 1)
        XCTAssertEqual(Convert.f16ToF32(0xC500), -5)
        XCTAssertEqual(Convert.f16ToF32(0x0001), Float(pow(2.0, -24.0)), "smallest subnormal")
        XCTAssertEqual(Convert.f16ToF32(0x7C00), .infinity)
        XCTAssertTrue(Convert.f16ToF32(0x7E00).isNaN)
        XCTAssertEqual(Convert.f16ToF32(0x8000).sign, .minus)
        // Round to nearest even, as torch does: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 → 1.
        XCTAssertEqual(Convert.f32ToBF16(1 + Float(pow(2.0, -8.0))), 0x3F80)
        XCTAssertEqual(Convert.f32ToBF16(1 + 3 * Float(pow(2.0, -8.0))), 0x3F82)
        XCTAssertEqual(Convert.f32ToBF16(-2), 0xC000)
        XCTAssertTrue(Convert.bf16ToF32(Convert.f32ToBF16(.nan)).isNaN)
        var rng = SplitMix64(seed: 71)
        for v in rng.floats(1000, scale: 100) {
            let back = Convert.bf16ToF32(Convert.f32ToBF16(v))
            XCTAssertLessThanOrEqual(abs(back - v), abs(v) * Float(pow(2.0, -8.0)), "\(v)")
        }
    }

    func testToFloatArrayPerType() {
        let f = FloatBuffer([1, -2, 3.5, 0]).tensor(shape: [2, 2])
        XCTAssertEqual(f.elementCount, 4)
        XCTAssertEqual(f.byteCount, 16)
        XCTAssertEqual(f.toFloatArray(), [1, -2, 3.5, 0])
        XCTAssertFalse(f.isMapped)

        let halves: [UInt16] = [0x3C00, 0xC500, 0x3800]          // 1, -5, 0.5 in f16
        let bf: [UInt16] = [0x3FC0, 0xC000, 0x3F00]              // 1.5, -2, 0.5 in bf16
        for (dtype, bits, want) in [(DType.f16, halves, [Float(1), -5, 0.5]), (.bf16, bf, [1.5, -2, 0.5])] {
            let buf = ByteBuffer(count: 6)
            bits.withUnsafeBytes { buf.pointer.copyMemory(from: $0.baseAddress!, byteCount: 6) }
            let t = buf.tensor(dtype: dtype, shape: [3])
            XCTAssertEqual(t.byteCount, 6)
            XCTAssertEqual(t.toFloatArray(), want, "\(dtype)")
        }
    }

    /// One Q8_0 block: an f16 scale then 32 signed bytes; value = scale · q.
    func testQ8_0Block() {
        XCTAssertEqual(DType.q8_0.blockElements, 32)
        XCTAssertEqual(DType.q8_0.blockBytes, 34)
        XCTAssertNil(DType.q8_0.byteCount(elements: 33), "not a whole number of blocks")
        XCTAssertEqual(DType.q8_0.byteCount(elements: 64), 68)
        var bytes: [UInt8] = [0x00, 0x38]                          // scale 0.5 (f16 0x3800, little endian)
        let q: [Int8] = (0..<32).map { Int8($0 - 16) }
        bytes += q.map { UInt8(bitPattern: $0) }
        let buf = ByteBuffer(count: 34)
        bytes.withUnsafeBytes { buf.pointer.copyMemory(from: $0.baseAddress!, byteCount: 34) }
        let t = buf.tensor(dtype: .q8_0, shape: [32])
        XCTAssertEqual(t.toFloatArray(), q.map { Float($0) * 0.5 })
    }

    /// One Q4_0 block: an f16 scale then 16 bytes of nibbles (low nibbles are elements 0-15, high 16-31);
    /// value = scale · (nibble − 8).
    func testQ4_0Block() {
        XCTAssertEqual(DType.q4_0.blockBytes, 18)
        var bytes: [UInt8] = [0x00, 0x40]                          // scale 2 (f16 0x4000)
        for i in 0..<16 { bytes.append(UInt8(i) | (UInt8(15 - i) << 4)) }
        let buf = ByteBuffer(count: 18)
        bytes.withUnsafeBytes { buf.pointer.copyMemory(from: $0.baseAddress!, byteCount: 18) }
        let values = buf.tensor(dtype: .q4_0, shape: [32]).toFloatArray()
        let low: [Float] = (0..<16).map { i in Float(i - 8) * 2 }
        let high: [Float] = (0..<16).map { i in Float(7 - i) * 2 }
        let want = low + high
        XCTAssertEqual(values, want)
    }
}
