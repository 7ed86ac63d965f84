import Foundation

/// Every way loading a tokenizer can fail. Messages name the file and the JSON field involved.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read (missing, unreadable).
    case fileNotFound(path: String)
    /// A file exists but is not something to read: a FIFO, device or directory, too large, or unreadable.
    case unreadableFile(path: String, reason: String)
    /// The bytes are not valid JSON (or the top level is not an object).
    case invalidJSON(file: String, detail: String)
    /// A required field is absent.
    case missingField(file: String, field: String)
    /// A field has the wrong JSON type or an impossible value.
    case invalidField(file: String, field: String, detail: String)
    /// A component type (model, normalizer, pre-tokenizer, decoder, ...) that this library does not implement.
    case unsupportedComponent(file: String, field: String, type: String)
    /// A merge names a token that is not in the vocabulary.
    case mergeTokenNotInVocabulary(file: String, index: Int, token: String)
    /// A regular expression in the pre-tokenizer could not be compiled.
    case invalidPattern(pattern: String, detail: String)
    /// A special token that the chat format needs is missing from the tokenizer.
    case missingSpecialToken(String)
    /// An unknown pre-tokenizer name (GGUF `tokenizer.ggml.pre`).
    case unknownPreTokenizerName(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "tokenizer file not found or unreadable: \(path)"
        case .unreadableFile(let path, let reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case .invalidJSON(let file, let detail):
            return "\(file): not a valid JSON object: \(detail)"
        case .missingField(let file, let field):
            return "\(file): missing required field '\(field)'"
        case .invalidField(let file, let field, let detail):
            return "\(file): invalid field '\(field)': \(detail)"
        case .unsupportedComponent(let file, let field, let type):
            return "\(file): unsupported \(field) type '\(type)' (PhiTokenizer implements byte-level and SentencePiece-style BPE)"
        case .mergeTokenNotInVocabulary(let file, let index, let token):
            return "\(file): model.merges[\(index)] uses '\(token)', which is not in model.vocab"
        case .invalidPattern(let pattern, let detail):
            return "pre-tokenizer regex could not be compiled (\(detail)): \(pattern)"
        case .missingSpecialToken(let content):
            return "tokenizer has no added token '\(content)' required by the chat format"
        case .unknownPreTokenizerName(let name):
            return "unknown pre-tokenizer name '\(name)' (known: gpt-4o, llama-bpe, llama3, smollm, gpt2, default)"
        }
    }
}

extension TokenizerError {
    /// The same error naming `path` as its file (for errors raised on data that a caller read from `path`).
    public func inFile(_ path: String) -> TokenizerError {
        switch self {
        case .invalidJSON(_, let detail): return .invalidJSON(file: path, detail: detail)
        case .missingField(_, let field): return .missingField(file: path, field: field)
        case .invalidField(_, let field, let detail): return .invalidField(file: path, field: field, detail: detail)
        case .unsupportedComponent(_, let field, let type): return .unsupportedComponent(file: path, field: field, type: type)
        case .mergeTokenNotInVocabulary(_, let index, let token):
            return .mergeTokenNotInVocabulary(file: path, index: index, token: token)
        default: return self
        }
    }
}
