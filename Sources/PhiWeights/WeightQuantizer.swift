import CPhiKernels
import Foundation
import PhiKernels
import PhiTensor

public enum QuantizeError: Error, CustomStringConvertible {
    case unsupported(name: String, reason: String)
    public var description: String {
        switch self {
        case .unsupported(let n, let r): return "cannot quantize '\(n)': \(r)"
        }
    }
}

/// Quantizes weight matrices row by row with the GGML reference quantizers (no importance matrix).
/// Scheme: every linear layer to `type`; the output head (`lm_head.weight`, tied or not) to Q6_K when
/// `type` has fewer bits per weight than Q6_K (as llama-quantize does), else to `type`; norms and embeddings stay as stored.
/// Weights that are already block-quantized (a GGUF file) are requantized from their dequantized values,
/// unless they already have the target type. `type == .f32` dequantizes (or widens) every matrix to f32:
/// the reference that quantization error is measured against.
public struct WeightQuantizer: Sendable {
    public let type: DType
    /// File name of the quantized weights `phi4 quantize` writes into a model folder.
    public static let folderFileName = "model.phikit.gguf"

    public init(type: DType) { self.type = type }

    public func targetType(for name: String) -> DType {
        let head = DType.q6_K
        if name == "lm_head.weight", type.isQuantized,
           type.blockBytes * head.blockElements < head.blockBytes * type.blockElements { return head }
        return type
    }

    /// The `WeightTransform` for model loading: returns an owned quantized copy of a 2-D weight.
    public func transform(_ name: String, _ tensor: Tensor) throws -> Tensor {
        let target = targetType(for: name)
        guard tensor.dtype != target else { return tensor }   // already in the target type: keep as is
        guard tensor.shape.count == 2 else { throw QuantizeError.unsupported(name: name, reason: "not a matrix") }
        let rows = tensor.shape[0], cols = tensor.shape[1]
        if target == .f32 { return try widen(name, tensor) }
        guard cols % target.blockElements == 0 else {
            // Row length not a multiple of the block: keep this one as stored (float, or the file's own
            // block type) rather than fail.
            return tensor
        }
        guard let rowBytes = target.byteCount(elements: cols),
              case let (total, false) = rowBytes.multipliedReportingOverflow(by: rows) else {
            throw QuantizeError.unsupported(name: name, reason: "size overflow")
        }
        let out = ByteBuffer(count: total)
        let srcRowBytes = tensor.rowBytes
        let src = tensor.data, dst = out.pointer
        let failed = ManagedFlag()
        Parallel().forRanges(rows, granularity: 16) { r0, r1 in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: cols)
            defer { scratch.deallocate() }
            for r in r0..<r1 {
                Convert.toF32(dtype: tensor.dtype, src: src + r * srcRowBytes, dst: scratch, count: cols)
                if phi_quantize_ref(target.id, scratch, dst + r * rowBytes, Int64(cols)) != 0 { failed.set() }
            }
        }
        if failed.isSet { throw QuantizeError.unsupported(name: name, reason: "the \(target.rawValue) quantizer rejected it") }
        return out.tensor(dtype: target, shape: tensor.shape)
    }

    /// An owned f32 copy of a matrix (quantized blocks dequantized, f16/bf16 widened).
    private func widen(_ name: String, _ tensor: Tensor) throws -> Tensor {
        let rows = tensor.shape[0], cols = tensor.shape[1]
        guard case let (count, false) = rows.multipliedReportingOverflow(by: cols),
              case let (total, false) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride) else {
            throw QuantizeError.unsupported(name: name, reason: "size overflow")
        }
        let out = ByteBuffer(count: total)
        let srcRowBytes = tensor.rowBytes
        let src = tensor.data, dst = out.pointer.assumingMemoryBound(to: Float.self)
        Parallel().forRanges(rows, granularity: 16) { r0, r1 in
            for r in r0..<r1 { Convert.toF32(dtype: tensor.dtype, src: src + r * srcRowBytes, dst: dst + r * cols, count: cols) }
        }
        return out.tensor(dtype: .f32, shape: tensor.shape)
    }
}

final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
