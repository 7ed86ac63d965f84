/// Why a prompt could not be built.
public enum MultimodalError: Error, CustomStringConvertible {
    case notMultimodal(String)
    case placeholderMismatch(kind: String, placeholders: Int, given: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case .notMultimodal(let what):
            return "this model does not take \(what); use a Phi-4-multimodal model (microsoft/Phi-4-multimodal-instruct)"
        case .placeholderMismatch(let k, let p, let g):
            return "the prompt has \(p) \(k) placeholder(s) (<|\(k)_N|>) but \(g) \(k)(s) were given"
        case .invalid(let m): return m
        }
    }
}
