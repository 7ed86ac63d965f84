import PhiTensor

/// How weights are held after loading: as stored, or every matrix converted once to one `DType`. Any weight type
/// of the C type table with a reference quantizer and quantized products (or f32) is accepted, so a new type in
/// the table is a new `--quantize` value without a change here.
public struct LoadQuantization: Hashable, Sendable {
    /// The type the matrices are converted to; nil keeps them as stored (memory-mapped, no copy).
    public let dtype: DType?

    /// As stored.
    public static let none = LoadQuantization(dtype: nil)
    /// Every matrix dequantized (or widened) to f32: the unquantized reference of a quantized file.
    public static let f32 = LoadQuantization(dtype: .f32)
    public static let q8_0 = LoadQuantization(dtype: .q8_0)
    public static let q4_0 = LoadQuantization(dtype: .q4_0)
    public static let q4_K = LoadQuantization(dtype: .q4_K)
    public static let q6_K = LoadQuantization(dtype: .q6_K)

    private init(dtype: DType?) { self.dtype = dtype }

    /// A conversion target: f32, or a quantized type the kernels multiply with and the table can quantize to.
    public init?(_ dtype: DType) {
        guard dtype == .f32 || (dtype.hasQuantizedProducts && dtype.canQuantize) else { return nil }
        self.dtype = dtype
    }

    /// Accepts the names users type: none, q4 (Q4_0), q8 (Q8_0), q4k, and every target type's name in any case
    /// (f32, q4_0, Q4_K, q6_k, ...). bf16 and f16 mean "as stored".
    public init?(name: String) {
        let lower = name.lowercased()
        switch lower {
        // (`Self.none`, never `.none`: in a failable initializer that is Optional.none, a failure.)
        case "none", "bf16", "f16": self = Self.none; return
        case "q8": self = Self.q8_0; return
        case "q4": self = Self.q4_0; return
        default: break
        }
        // "q4k" for "q4_k": a type name without its underscore.
        guard let dtype = DType.allCases.first(where: {
            let n = $0.rawValue.lowercased()
            return n == lower || (n.hasSuffix("_k") && n.replacingOccurrences(of: "_", with: "") == lower)
        }), let q = LoadQuantization(dtype) else { return nil }
        self = q
    }

    /// The names `init(name:)` accepts for conversion targets (for help texts).
    public static var targetNames: [String] { DType.allCases.compactMap { LoadQuantization($0) != nil ? $0.rawValue.lowercased() : nil } }
}
