import Foundation
import PhiKernels
import PhiModels
import PhiNN
import PhiTokenizer

public struct GenerationOptions: Sendable {
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters()
    /// Generation stops before any of these strings; they are not part of the output.
    public var stop: [String] = []
    /// Report the log-probability of each chosen token (under the model's raw distribution).
    public var logprobs = false
    /// Stop tokens; nil uses the model's end-of-sequence ids.
    public var stopTokenIDs: Set<Int>? = nil
    /// How many most likely alternatives to report with each token (0: none), under the raw distribution.
    public var topLogprobs = 0
    /// Added to the logits of these token ids before sampling (OpenAI's `logit_bias`, -100 … 100).
    public var logitBias: [Int: Float] = [:]
    /// A test aid: the k-th generated token is forced to `forcedOutput[k]` (the model still runs, logprobs still
    /// come from it). Lets tests drive tool calls and other structured outputs through a random tiny model.
    public var forcedOutput: [Int] = []
    /// Only output this constraint accepts (JSON schema, any JSON object, regex, grammar, tool call); compiled
    /// (and cached) before generation starts, so a bad one throws `ConstraintError` without running the model.
    public var constraint: Constraint? = nil
    /// Speculative decoding for this stream (`.lookup`: prompt-lookup drafts, verified exactly, drafted only
    /// while they pay). The output is the same as without it; only the number of forward passes changes. Not
    /// used with a constraint.
    public var draft: DraftMode = .lookup

    public init(maxTokens: Int = 256, sampling: SamplingParameters = SamplingParameters(), stop: [String] = [],
                logprobs: Bool = false, stopTokenIDs: Set<Int>? = nil, constraint: Constraint? = nil) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.logprobs = logprobs
        self.stopTokenIDs = stopTokenIDs
        self.constraint = constraint
    }

    func validate(vocabularySize: Int) throws {
        guard topLogprobs >= 0 && topLogprobs <= 20 else {
            throw GenerationError.invalidParameter("top logprobs must be in 0…20, got \(topLogprobs)")
        }
        for (id, b) in logitBias {
            guard id >= 0 && id < vocabularySize else {
                throw GenerationError.invalidParameter("logit bias token \(id) is outside the vocabulary (\(vocabularySize))")
            }
            guard b.isFinite && abs(b) <= 100 else { throw GenerationError.invalidParameter("logit bias must be in [-100, 100]") }
        }
    }
}

public enum FinishReason: String, Sendable, Codable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// The token limit.
    case length
}

/// One step of streamed output.
public struct GeneratedToken: Sendable {
    public let id: Int
    /// Text that became visible with this token (may be empty while UTF-8 or a stop string is pending).
    public let text: String
    public let logprob: Float?
    /// The most likely tokens at this step with their log-probabilities (when asked for).
    public var topLogprobs: [TokenLogprob] = []

    public init(id: Int, text: String, logprob: Float?, topLogprobs: [TokenLogprob] = []) {
        self.id = id
        self.text = text
        self.logprob = logprob
        self.topLogprobs = topLogprobs
    }
}

public struct TokenLogprob: Sendable, Equatable {
    public let id: Int
    public let logprob: Float
}

public struct GenerationResult: Sendable {
    public var promptTokens: [Int]
    public var generatedTokens: [Int]
    public var text: String
    public var finishReason: FinishReason
    public var logprobs: [Float]?
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Tokens whose logits came from decode calls (every generated token but the first; a speculative call
    /// yields several).
    public var decodeSteps: Int
    /// Speculative decoding: draft tokens proposed, and how many of them were accepted.
    public var draftedTokens = 0
    public var acceptedDraftTokens = 0
    /// Speculative decoding: calls that verified a draft (accepted ÷ calls is the mean accepted length).
    public var draftCalls = 0

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens.count) / prefillSeconds : 0 }
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeSteps) / decodeSeconds : 0 }
}

/// The one generation loop shared by the library, the CLI and the server.
public final class Generator: @unchecked Sendable {
    public let model: LanguageModel
    public let tokenizer: Tokenizer
    public let eosTokenIDs: Set<Int>

    public init(model: LanguageModel, tokenizer: Tokenizer, eosTokenIDs: Set<Int>) {
        self.model = model
        self.tokenizer = tokenizer
        self.eosTokenIDs = eosTokenIDs
    }

    /// Generates after `prompt`. With a `cache` that already holds a prefix of `prompt`, only the rest is
    /// computed (chat sessions). `conditioning` carries a multimodal prompt's spliced features and LoRA
    /// (see `PromptBuilder`). `onToken` sees each token as it is produced; returning false stops early.
    public func generate(
        prompt: [Int], options: GenerationOptions, cache existing: KVCache? = nil, conditioning: Conditioning? = nil,
        onToken: (GeneratedToken) -> Bool = { _ in true }
    ) throws -> GenerationResult {
        var state = try DecodeState(generator: self, prompt: prompt, options: options, cache: existing,
                                    conditioning: conditioning)
        while !state.isFinished {
            for token in try state.step() where !onToken(token) { state.finishEarly() }
        }
        return state.result
    }

    /// Streams tokens as an AsyncSequence; the work runs on a background thread.
    public func stream(prompt: [Int], options: GenerationOptions, cache: KVCache? = nil, conditioning: Conditioning? = nil)
        -> AsyncThrowingStream<GenerationEvent, Error>
    {
        AsyncThrowingStream { continuation in
            let cancelled = CancellationFlag()
            continuation.onTermination = { _ in cancelled.set() }
            Thread.detachNewThread {
                do {
                    let r = try self.generate(prompt: prompt, options: options, cache: cache, conditioning: conditioning) { tok in
                        continuation.yield(.token(tok))
                        return !cancelled.isSet
                    }
                    continuation.yield(.finished(r))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// Tokens that end a constrained output once it is complete: the constraint's own (a tool call's `<|end|>`)
    /// or the caller's stop tokens.
    static func endTokens(for c: CompiledConstraint, stops: Set<Int>) -> Set<Int> {
        c.endTokenIDs ?? stops
    }

    /// How many leading prompt tokens the cache already holds with valid keys.
    static func reusablePrefix(cache: KVCache, prompt: [Int]) -> Int {
        var n = 0
        let cached = cache.tokens
        while n < cached.count && n < prompt.count && cached[n] == prompt[n] { n += 1 }
        return n
    }
}

public enum GenerationEvent: Sendable {
    case token(GeneratedToken)
    case finished(GenerationResult)
}

final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
