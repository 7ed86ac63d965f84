import PhiKernels
import PhiTensor

/// Token embedding table [vocab, dim] in its stored type; rows are converted to f32 on lookup.
public struct Embedding: @unchecked Sendable {
    public let table: Tensor
    public let count: Int
    public let dim: Int

    public init(table: Tensor) {
        self.table = table
        count = table.shape[0]
        dim = table.shape[1]
    }

    /// Writes the embeddings of `ids` (each already checked to be < count) into out: [ids.count, dim].
    public func lookup(_ ids: [Int], into out: UnsafeMutablePointer<Float>) {
        let rowBytes = table.rowBytes
        for (r, id) in ids.enumerated() {
            Convert.toF32(dtype: table.dtype, src: table.data + id * rowBytes, dst: out + r * dim, count: dim)
        }
    }
}
