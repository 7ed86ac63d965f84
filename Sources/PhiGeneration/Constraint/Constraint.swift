import Foundation

/// What a constrained generation may produce (`GenerationOptions.constraint`). Every step, tokens whose bytes
/// would leave the language are masked before sampling, and end-of-sequence is allowed only where the output is
/// complete. Compile or check one without running a model with `Constraint.compile(for:)` / `validate(for:)`.
public enum Constraint: Sendable, Hashable {
    /// A JSON value that validates against this JSON schema (text of the schema). Supported: the subset OpenAI's
    /// strict mode documents (see `JSONSchemaCompiler`); anything else is a `ConstraintError.unsupported`.
    case jsonSchema(String)
    /// Any JSON object (OpenAI `response_format: json_object`).
    case jsonObject
    /// Text matched in full by this regular expression (see `RegexParser` for the syntax).
    case regex(String)
    /// Text derived from `root` of a GBNF-like grammar (see `GrammarParser` for the syntax).
    case grammar(String)
    /// A Phi-4-mini tool call: `<|tool_call|>[{"name": …, "arguments": …}]<|/tool_call|>`, the name one of
    /// `tools` (a JSON list of tool definitions, as given to the chat template) or exactly `name`, the arguments
    /// fitting that tool's parameters schema; then the end-of-turn token.
    case toolCall(tools: String, name: String?)
}

/// Why a constraint cannot be used. Thrown before generation starts (servers map it to HTTP 400).
public enum ConstraintError: Error, Equatable, CustomStringConvertible {
    /// The input is not well-formed (bad JSON, regex or grammar syntax). `path` locates it (a JSON pointer for
    /// schemas, an offset for regexes and grammars).
    case invalid(path: String, message: String)
    /// A schema keyword or grammar feature PhiKit does not support, and where it is.
    case unsupported(feature: String, path: String)
    /// No output can satisfy the constraint.
    case unsatisfiable(path: String, reason: String)
    /// The tokenizer lacks a token the constraint needs (e.g. `<|tool_call|>`).
    case missingToken(String)
    /// The compiled automaton would exceed the size limit.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .invalid(let path, let message): return "invalid constraint at \(path): \(message)"
        case .unsupported(let feature, let path): return "unsupported constraint feature '\(feature)' at \(path)"
        case .unsatisfiable(let path, let reason): return "the constraint cannot be satisfied at \(path): \(reason)"
        case .missingToken(let t): return "the tokenizer has no token \(t), which the constraint needs"
        case .tooLarge(let m): return "the constraint is too large: \(m)"
        }
    }
}
