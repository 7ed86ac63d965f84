import PhiTensor

/// How weights are held after loading.
public enum LoadQuantization: String, Sendable, CaseIterable {
    /// As stored (memory-mapped, no copy).
    case none
    case q8_0 = "q8_0"
    case q4_0 = "q4_0"
    case q4_K = "q4_k"
    case q6_K = "q6_k"
    /// Every matrix dequantized (or widened) to f32: the unquantized reference of a quantized file.
    case f32 = "f32"

    /// Accepts the names users type: q4, q8, q4_0, Q4_K, f32, …
    public init?(name: String) {
        switch name.lowercased() {
        case "none", "bf16", "f16": self = .none
        case "f32": self = .f32
        case "q8", "q8_0": self = .q8_0
        case "q4", "q4_0": self = .q4_0
        case "q4_k", "q4k": self = .q4_K
        case "q6_k", "q6k": self = .q6_K
        default: return nil
        }
    }

    public var dtype: DType? {
        switch self {
        case .none: return nil
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_K: return .q4_K
        case .q6_K: return .q6_K
        case .f32: return .f32
        }
    }
}
