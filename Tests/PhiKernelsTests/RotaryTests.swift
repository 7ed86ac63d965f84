import PhiKernels
import XCTest

final class RotaryTests: XCTestCase {
    /// Interleaved rotation equals rotate_half on the permuted vector [x0, x2, x4, …, x1, x3, …], which is
    /// exactly the row permutation llama.cpp's converter applies to Llama q/k weights.
    func testInterleavedEqualsRotateHalfOnPermutedDims() {
        let d = 8, h = d / 2
        let x: [Float] = (0..<d).map { Float($0) * 0.37 - 1 }
        let freqs: [Float] = (0..<h).map { 0.3 + Float($0) * 0.21 }
        var cos = [Float](repeating: 0, count: d), sin = cos
        for j in 0..<h {
            cos[j] = Foundation.cos(freqs[j]); cos[j + h] = cos[j]
            sin[j] = Foundation.sin(freqs[j]); sin[j + h] = sin[j]
        }
        var inter = x
        Kernels.applyRotary(x: &inter, ld: d, rows: 1, heads: 1, headDim: d, rotaryDim: d, interleaved: true, cos: cos, sin: sin)
        var permuted = (0..<h).map { x[2 * $0] } + (0..<h).map { x[2 * $0 + 1] }
        Kernels.applyRotary(x: &permuted, ld: d, rows: 1, heads: 1, headDim: d, rotaryDim: d, interleaved: false, cos: cos, sin: sin)
        for j in 0..<h {
            XCTAssertEqual(inter[2 * j], permuted[j], accuracy: 1e-6)
            XCTAssertEqual(inter[2 * j + 1], permuted[j + h], accuracy: 1e-6)
        }
        XCTAssertNotEqual(inter, x)
    }

    func testPartialRotaryLeavesPassThroughDims() {
        let d = 8, rot = 4
        var x: [Float] = (0..<d).map { Float($0 + 1) }
        let cos: [Float] = [0.5, 0.5, 0.5, 0.5], sin: [Float] = [0.8, 0.8, 0.8, 0.8]
        Kernels.applyRotary(x: &x, ld: d, rows: 1, heads: 1, headDim: d, rotaryDim: rot, cos: cos, sin: sin)
        XCTAssertEqual(Array(x[rot...]), [5, 6, 7, 8])
        XCTAssertEqual(x[0], 1 * 0.5 - 3 * 0.8, accuracy: 1e-6)
        XCTAssertEqual(x[2], 3 * 0.5 + 1 * 0.8, accuracy: 1e-6)
    }
}
