import PhiTensor

/// An additive bias on the rows of a projection's output (Llama's `attention_bias`/`mlp_bias`, Qwen2's q/k/v
/// biases). Kept apart from `Linear` so one weight format serves biased and unbiased layers alike.
public struct Bias: @unchecked Sendable {
    let values: FloatBuffer
    public var count: Int { values.count }

    public init(_ values: [Float]) {
        self.values = FloatBuffer(values)
    }

    /// y[r, 0..<count] += bias for rows r of a matrix with row stride `ld` (≥ count).
    public func add(into y: UnsafeMutablePointer<Float>, rows: Int, ld: Int? = nil) {
        let n = values.count, ld = ld ?? n, b = values.pointer
        for r in 0..<rows {
            let row = y + r * ld
            for i in 0..<n { row[i] += b[i] }
        }
    }
}
