import PhiKernels

/// The normalization of a decoder block or of the final hidden state: RMSNorm (Phi-3, Llama) or LayerNorm
/// (with an optional bias). A model picks one kind for all its norms; the forward pass does not care which.
public enum Norm: @unchecked Sendable {
    case rms(RMSNorm)
    case layer(LayerNorm)

    public var size: Int {
        switch self {
        case .rms(let n): return n.size
        case .layer(let n): return n.size
        }
    }

    /// x: [rows, size] → y: [rows, size].
    public func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                               parallel: Parallel = Parallel(threads: 1)) {
        switch self {
        case .rms(let n): n(x, rows: rows, into: y, parallel: parallel)
        case .layer(let n): n(x, rows: rows, into: y, parallel: parallel)
        }
    }
}
