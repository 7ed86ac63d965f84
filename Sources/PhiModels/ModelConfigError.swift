/// Errors raised while reading a model's configuration or binding its weights.
public enum ModelError: Error, CustomStringConvertible {
    case missingFile(String)
    case malformedConfig(file: String, reason: String)
    case unsupportedArchitecture(String)
    case unsupported(String)
    case missingWeight(String)
    case unexpectedWeights([String])
    case wrongShape(name: String, expected: [Int], actual: [Int])
    /// A config size (`fields`, by their Hugging Face names) disagrees with the checkpoint's tensor `tensor`.
    case configMismatch(fields: String, tensor: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case .missingFile(let f): return "missing file: \(f)"
        case .malformedConfig(let f, let r): return "\(f): \(r)"
        case .unsupportedArchitecture(let a):
            return "unsupported architecture '\(a)' (PhiKit runs \(ModelRegistry.supportedNames))"
        case .unsupported(let r): return r
        case .missingWeight(let n): return "the checkpoint has no tensor '\(n)'"
        case .unexpectedWeights(let names):
            let shown = names.prefix(5).joined(separator: ", ")
            return "the checkpoint has \(names.count) tensor(s) the model does not use: \(shown)\(names.count > 5 ? ", …" : "")"
        case .wrongShape(let n, let e, let a): return "tensor '\(n)' has shape \(a) but the model expects \(e)"
        case .configMismatch(let fields, let n, let e, let a):
            return "the config does not fit the checkpoint: tensor '\(n)' is \(a), but \(fields) give \(e)"
        }
    }
}
