import Foundation
import PhiKernels
@testable import PhiNN
import PhiTensor
import PhiTestSupport
import XCTest

/// The parts of the open decoder block that no checkpoint fixture covers, against their definitions:
/// LayerNorm as a block norm, and biased gated MLPs with each activation.
final class DecoderBlockPartsTests: XCTestCase {
    func testLayerNormKind() {
        var rng = SplitMix64(seed: 61)
        let n = 12, rows = 3
        let w = rng.floats(n), b = rng.floats(n), x = rng.floats(rows * n)
        let norm = Norm.layer(LayerNorm(weight: TinyDecoder.tensor(w, [n]), bias: TinyDecoder.tensor(b, [n]), eps: 1e-5))
        XCTAssertEqual(norm.size, n)
        var y = [Float](repeating: 0, count: rows * n)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { norm(xb.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        var want: [Float] = []
        for r in 0..<rows {
            let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
            let mean = row.reduce(0, +) / Double(n)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            want += (0..<n).map { Float((row[$0] - mean) / (variance + 1e-5).squareRoot()) * w[$0] + b[$0] }
        }
        XCTAssertLessThanOrEqual(Difference(y, want).maxAbs, 1e-5)
    }

    func activation(_ a: GatedActivation, _ v: Float) -> Float {
        let x = Double(v)
        switch a {
        case .silu: return Float(x / (1 + exp(-x)))
        case .gelu: return Float(0.5 * x * (1 + erf(x / 2.0.squareRoot())))
        case .geluTanh: return Float(0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))))
        }
    }

    func testGatedFeedForwardWithBiases() throws {
        var rng = SplitMix64(seed: 62)
        let H = 8, I = 6, rows = 2
        let gate = rng.floats(I * H), up = rng.floats(I * H), down = rng.floats(H * I)
        let gateUpBias = rng.floats(2 * I), downBias = rng.floats(H), h = rng.floats(rows * H, scale: 2)
        for act in GatedActivation.allCases {
            for separate in [false, true] {
                let projection: FeedForward.Projection = separate
                    ? .separate(gate: try Linear(weight: TinyDecoder.tensor(gate, [I, H])), up: try Linear(weight: TinyDecoder.tensor(up, [I, H])))
                    : .fused(gateUp: try Linear(weight: TinyDecoder.tensor(gate + up, [2 * I, H])))
                let ff = FeedForward(projection: projection, down: try Linear(weight: TinyDecoder.tensor(down, [H, I])),
                                     activation: act, gateUpBias: Bias(gateUpBias), downBias: Bias(downBias))
                var out = [Float](repeating: 0, count: rows * H)
                var gu = [Float](repeating: 0, count: rows * 2 * I), m = [Float](repeating: 0, count: rows * I)
                h.withUnsafeBufferPointer { hb in
                    gu.withUnsafeMutableBufferPointer { gb in
                        m.withUnsafeMutableBufferPointer { mb in
                            out.withUnsafeMutableBufferPointer { ob in
                                ff(hb.baseAddress!, rows: rows, gu: gb.baseAddress!, m: mb.baseAddress!, into: ob.baseAddress!,
                                   lora: nil, parallel: Parallel(threads: 1))
                            }
                        }
                    }
                }
                var want: [Float] = []
                for r in 0..<rows {
                    let x = Array(h[(r * H)..<((r + 1) * H)])
                    let mid = (0..<I).map { i -> Float in
                        let g = zip(gate[(i * H)..<((i + 1) * H)], x).map(*).reduce(0, +) + gateUpBias[i]
                        let u = zip(up[(i * H)..<((i + 1) * H)], x).map(*).reduce(0, +) + gateUpBias[I + i]
                        return activation(act, g) * u
                    }
                    want += (0..<H).map { o in zip(down[(o * I)..<((o + 1) * I)], mid).map(*).reduce(0, +) + downBias[o] }
                }
                XCTAssertLessThanOrEqual(Difference(out, want).maxAbs, 1e-4, "\(act) separate \(separate)")
            }
        }
        XCTAssertEqual(GatedActivation(huggingFace: "gelu_pytorch_tanh"), .geluTanh)
        XCTAssertEqual(GatedActivation(huggingFace: "silu"), .silu)
        XCTAssertNil(GatedActivation(huggingFace: "relu2"))
    }
}
