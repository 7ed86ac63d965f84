public enum GenerationError: Error, CustomStringConvertible {
    case invalidParameter(String)
    case emptyPrompt
    case promptTooLong(tokens: Int, limit: Int)
    case cancelled

    public var description: String {
        switch self {
        case .invalidParameter(let m): return "invalid parameter: \(m)"
        case .emptyPrompt: return "the prompt is empty"
        case .promptTooLong(let t, let l):
            return "the prompt has \(t) tokens but the model's context is \(l) tokens"
        case .cancelled: return "generation was cancelled"
        }
    }
}
