import CPhiKernels

/// Quantized blocks → f32, through the scalar reference dequantizers in CPhiKernels (used for
/// embeddings rows and tests; matrix products read the blocks directly).
public enum Dequantize {
    public static func toF32(dtype: DType, src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        phi_dequantize_ref(dtype.id, src, dst, Int64(count))
    }
}
