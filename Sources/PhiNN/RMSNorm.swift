import PhiKernels
import PhiTensor

/// RMSNorm with its weight converted once to f32 (norm weights are tiny).
public struct RMSNorm: @unchecked Sendable {
    let weight: FloatBuffer
    public let eps: Float
    public var size: Int { weight.count }

    public init(weight: Tensor, eps: Float) {
        self.weight = FloatBuffer(weight.toFloatArray())
        self.eps = eps
    }

    public func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                               parallel: Parallel = Parallel(threads: 1)) {
        Kernels.rmsNorm(x: x, weight: weight.pointer, y: y, rows: rows, n: weight.count, eps: eps, parallel: parallel)
    }
}
