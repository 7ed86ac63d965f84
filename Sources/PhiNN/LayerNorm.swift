import PhiKernels
import PhiTensor

/// LayerNorm with weight and (optional) bias converted once to f32.
public struct LayerNorm: @unchecked Sendable {
    let weight: FloatBuffer
    let bias: FloatBuffer?
    public let eps: Float
    public var size: Int { weight.count }

    public init(weight: Tensor, bias: Tensor?, eps: Float) {
        self.weight = FloatBuffer(weight.toFloatArray())
        self.bias = bias.map { FloatBuffer($0.toFloatArray()) }
        self.eps = eps
    }

    public func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, parallel: Parallel) {
        Kernels.layerNorm(x: x, weight: weight.pointer, bias: bias.map { UnsafePointer($0.pointer) }, y: y,
                          rows: rows, n: weight.count, eps: eps, parallel: parallel)
    }
}

/// y = x·Wᵀ + b: a Linear with an optional bias (encoders and projectors have biases; the LM has none).
public struct BiasedLinear: @unchecked Sendable {
    public let linear: Linear
    let bias: FloatBuffer?
    public var inFeatures: Int { linear.inFeatures }
    public var outFeatures: Int { linear.outFeatures }

    public init(weight: Tensor, bias: Tensor?, name: String = "") throws {
        linear = try Linear(weight: weight, name: name)
        if let bias {
            guard bias.elementCount == linear.outFeatures else {
                throw NNError.unsupportedWeight(name: name, reason: "bias has \(bias.elementCount) values for \(linear.outFeatures) outputs")
            }
            self.bias = FloatBuffer(bias.toFloatArray())
        } else {
            self.bias = nil
        }
    }

    /// x: [rows, in] (stride ldx) → y: [rows, out] (stride ldy).
    public func callAsFunction(_ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int, into y: UnsafeMutablePointer<Float>,
                               ldy: Int? = nil, parallel: Parallel) {
        linear(x, ldx: ldx, rows: rows, into: y, ldy: ldy, parallel: parallel)
        guard let bias else { return }
        let ldy = ldy ?? outFeatures, n = outFeatures, b = bias.pointer
        for r in 0..<rows {
            let row = y + r * ldy
            for i in 0..<n { row[i] += b[i] }
        }
    }
}

/// The two-layer projector that maps encoder features into the language model's embedding space:
/// Linear → exact GELU → Linear (Phi-4-multimodal's image and audio projectors).
public struct GELUProjector: @unchecked Sendable {
    public let up: BiasedLinear
    public let down: BiasedLinear
    public var outFeatures: Int { down.outFeatures }

    public init(up: BiasedLinear, down: BiasedLinear) throws {
        guard up.outFeatures == down.inFeatures else {
            throw NNError.unsupportedWeight(name: "projector", reason: "up gives \(up.outFeatures) features but down takes \(down.inFeatures)")
        }
        self.up = up
        self.down = down
    }

    /// x: [rows, up.inFeatures] → [rows, outFeatures].
    public func callAsFunction(_ x: [Float], rows: Int, parallel: Parallel) -> [Float] {
        var mid = [Float](repeating: 0, count: rows * up.outFeatures)
        var out = [Float](repeating: 0, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xb in
            mid.withUnsafeMutableBufferPointer { mb in
                out.withUnsafeMutableBufferPointer { ob in
                    guard let xp = xb.baseAddress, let mp = mb.baseAddress, let op = ob.baseAddress else { return }
                    up(xp, rows: rows, into: mp, parallel: parallel)
                    Kernels.activate(.gelu, mp, count: rows * up.outFeatures, parallel: parallel)
                    down(mp, rows: rows, into: op, parallel: parallel)
                }
            }
        }
        return out
    }
}
