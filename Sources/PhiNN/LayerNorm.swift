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
