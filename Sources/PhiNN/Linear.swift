import PhiKernels
import PhiTensor

public enum NNError: Error, CustomStringConvertible {
    case unsupportedWeight(name: String, reason: String)
    case invalidInput(String)
    public var description: String {
        switch self {
        case .unsupportedWeight(let n, let r): return "weight '\(n)': \(r)"
        case .invalidInput(let r): return r
        }
    }
}

/// y = x · Wᵀ for a weight stored [out, in] (PyTorch layout). One Linear serves every storage format:
/// dense f32/f16/bf16 weights are used where they lie (usually a memory-mapped file); GGML block-quantized
/// weights are repacked into interleaved panels the kernels read directly, and the mapped pages they came from
/// are released, so no second full copy stays resident. The repacking happens in the initializer, or, for
/// mapped weights given a `WeightRepacker`, in the background after loading (the GGML rows serve until then,
/// with identical results).
public struct Linear: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// The stored type of the weight.
    public let dtype: DType
    let storage: Storage

    enum Storage {
        case dense(Tensor, DType)
        case quantized(QuantizedWeight)
    }

    /// `repack: false` keeps quantized weights in their GGML rows (for tests of that path). A mapped quantized
    /// weight registers with `repacker` (when given) to be repacked after loading instead of now.
    public init(weight: Tensor, name: String = "", repack: Bool = true, repacker: WeightRepacker? = nil) throws {
        guard weight.shape.count == 2 else {
            throw NNError.unsupportedWeight(name: name, reason: "expected a 2-D matrix, got shape \(weight.shape)")
        }
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        dtype = weight.dtype
        switch weight.dtype {
        case .f32: storage = .dense(weight, .f32)
        case .bf16: storage = .dense(weight, .bf16)
        case .f16: storage = .dense(weight, .f16)
        default:
            let type = weight.dtype
            guard QuantKernels.supports(type: type, k: inFeatures) else {
                throw NNError.unsupportedWeight(name: name, reason: "no \(weight.dtype.rawValue) kernel for rows of \(inFeatures) values")
            }
            let q = QuantizedWeight(source: weight, type: type, rows: outFeatures, columns: inFeatures)
            if repack {
                if weight.isMapped, let repacker {
                    repacker.add(q)
                } else {
                    try q.repack(parallel: Parallel())
                }
            }
            storage = .quantized(q)
        }
    }

    /// Bytes of the stored weight (what one product with a single row reads).
    public var storedBytes: Int {
        switch storage {
        case .dense(let w, _): return w.byteCount
        case .quantized(let q): return q.source.byteCount
        }
    }

    /// Whether the weight is read from repacked panels (always false for dense weights).
    public var isRepacked: Bool {
        if case .quantized(let q) = storage { return q.isRepacked }
        return false
    }

    /// x: [rows, inFeatures] (row stride ldx) → y: [rows, outFeatures] (row stride ldy).
    public func callAsFunction(
        _ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int? = nil, parallel: Parallel
    ) {
        let ldx = ldx ?? inFeatures, ldy = ldy ?? outFeatures
        switch storage {
        case .dense(let w, let type):
            Kernels.matmul(x: x, ldx: ldx, rows: rows, k: inFeatures, weight: w.data, type: type, n: outFeatures,
                           y: y, ldy: ldy, parallel: parallel)
        case .quantized(let w):
            quantized(x, ldx, rows, y, ldy, parallel) {
                try w(x, ldx: ldx, rows: rows, into: y, ldy: ldy, parallel: parallel)
            }
        }
    }

    /// The kernels only reject shapes `init` already checked; should that ever change, the output is NaN
    /// (visible downstream) rather than stale memory.
    private func quantized(_ x: UnsafePointer<Float>, _ ldx: Int, _ rows: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int,
                           _ parallel: Parallel, _ body: () throws -> Void) {
        do { try body() } catch {
            for r in 0..<rows { (y + r * ldy).update(repeating: .nan, count: outFeatures) }
        }
    }
}
