import PhiKernels
import PhiTensor

public enum NNError: Error, CustomStringConvertible {
    case unsupportedWeight(name: String, reason: String)
    public var description: String {
        switch self {
        case .unsupportedWeight(let n, let r): return "weight '\(n)': \(r)"
        }
    }
}

/// y = x · Wᵀ for a weight stored [out, in] (PyTorch layout). The weight is used where it lies
/// (usually a memory-mapped file), in its stored type.
public struct Linear: @unchecked Sendable {
    public let weight: Tensor
    public let inFeatures: Int
    public let outFeatures: Int
    let type: WeightType

    public init(weight: Tensor, name: String = "") throws {
        guard weight.shape.count == 2 else {
            throw NNError.unsupportedWeight(name: name, reason: "expected a 2-D matrix, got shape \(weight.shape)")
        }
        self.weight = weight
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        switch weight.dtype {
        case .f32: type = .f32
        case .bf16: type = .bf16
        case .f16: type = .f16
        case .q8_0, .q4_0, .q4_1, .q4_K, .q5_K, .q6_K:
            throw NNError.unsupportedWeight(name: name, reason: "quantized type \(weight.dtype.rawValue) is not wired yet")
        }
    }

    /// x: [rows, inFeatures] (row stride ldx) → y: [rows, outFeatures] (row stride ldy).
    public func callAsFunction(
        _ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int? = nil, parallel: Parallel
    ) {
        Kernels.matmul(x: x, ldx: ldx ?? inFeatures, rows: rows, k: inFeatures,
                       weight: weight.data, type: type, n: outFeatures,
                       y: y, ldy: ldy ?? outFeatures, parallel: parallel)
    }
}
