/// How far a result is from a reference: largest absolute difference and normalised mean squared error
/// (Σ(a−b)² / Σb²), the two numbers parity tests bound.
public struct Difference: CustomStringConvertible, Sendable {
    public var maxAbs: Float = 0
    public var nmse: Double = 0
    public var description: String { "max-abs \(maxAbs), nmse \(nmse)" }

    /// Arrays of different lengths are infinitely far apart (a test then fails rather than crashes).
    public init(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) {
        guard a.count == b.count else {
            maxAbs = .infinity
            nmse = .infinity
            return
        }
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) {
            maxAbs = max(maxAbs, abs(x - y))
            num += Double(x - y) * Double(x - y)
            den += Double(y) * Double(y)
        }
        nmse = den > 0 ? num / den : num
    }

    public init(_ a: [Float], _ b: [Float]) { self.init(a[...], b[...]) }
}

/// Bounds the parity tests share.
public enum Tolerance {
    /// f32 engine vs f32 transformers references (tools/fixtures' tolerance_hints).
    public static let float32: Float = 1e-4
    /// f32 engine vs references that transformers computed in bf16 (activations rounded at every step).
    public static let bfloat16: Float = 0.15
    /// Two f32 computations of the same thing that differ only in summation order (chunking, caching).
    public static let reordering: Float = 1e-5
}
