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
    /// Only output this constraint accepts (JSON schema, any JSON object, regex, grammar, tool call); compiled
    /// (and cached) before generation starts, so a bad one throws `ConstraintError` without running the model.
    public var constraint: Constraint? = nil

    public init(maxTokens: Int = 256, sampling: SamplingParameters = SamplingParameters(), stop: [String] = [],
                logprobs: Bool = false, stopTokenIDs: Set<Int>? = nil, constraint: Constraint? = nil) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.logprobs = logprobs
        self.stopTokenIDs = stopTokenIDs
        self.constraint = constraint
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
}

public struct GenerationResult: Sendable {
    public var promptTokens: [Int]
    public var generatedTokens: [Int]
    public var text: String
    public var finishReason: FinishReason
    public var logprobs: [Float]?
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var decodeSteps: Int

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
    /// (see `LoadedModel.prepare`). `onToken` sees each token as it is produced; returning false stops early.
    public func generate(
        prompt: [Int], options: GenerationOptions, cache existing: KVCache? = nil, conditioning: Conditioning? = nil,
        onToken: (GeneratedToken) -> Bool = { _ in true }
    ) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        try options.sampling.validate()
        guard options.maxTokens >= 0 else { throw GenerationError.invalidParameter("max tokens must be ≥ 0") }
        var constrained = try options.constraint.map { try $0.compile(for: tokenizer).makeMatcher() }
        let limit = model.contextLength
        guard prompt.count <= limit else { throw GenerationError.promptTooLong(tokens: prompt.count, limit: limit) }

        let cache = existing ?? model.makeCache(maxLength: min(limit, prompt.count + options.maxTokens))
        let sameConditioning = cache.conditioningID == conditioning.map { ObjectIdentifier($0) }
        let reused = sameConditioning ? Generator.reusablePrefix(cache: cache, prompt: prompt) : 0
        if reused == 0 { cache.reset() } else { cache.truncate(to: reused) }
        if reused == prompt.count { cache.truncate(to: reused - 1) } // recompute the last token for its logits

        let stops = options.stopTokenIDs ?? eosTokenIDs
        let ends = constrained.map { Generator.endTokens(for: $0.compiled, stops: stops) } ?? []
        var sampler = Sampler(options.sampling)
        var detok = tokenizer.makeStreamingDecoder(skipSpecial: true)
        var matcher = StopStringMatcher(options.stop)
        var result = GenerationResult(promptTokens: prompt, generatedTokens: [], text: "", finishReason: .length,
                                      logprobs: options.logprobs ? [] : nil, prefillSeconds: 0, decodeSeconds: 0,
                                      decodeSteps: 0)
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }
        guard options.maxTokens > 0 else { return result }
        var logits = try model.forward(Array(prompt[cache.count...]), cache: cache, logits: .last, conditioning: conditioning)
        result.prefillSeconds = lap()
        var context = prompt
        while true {
            let id: Int
            if constrained != nil {
                // Mask, then sample; a single allowed token (a forced stretch) is taken without sampling. Where the
                // bytes are forced but several tokenizations fit (`{"na` + `me"` or `{"name"`), the model picks
                // under the mask: forcing one tokenization would change what the model produces.
                let mask = constrained?.mask(endTokens: ends) ?? TokenMask(count: 0)
                if mask.isEmpty {  // complete, and no end token to emit
                    let tail = matcher.feed(detok.flush()).emit + matcher.flush()
                    result.text += tail
                    result.finishReason = .stop
                    break
                }
                id = mask.single ?? sampler.sample(logits: logits, context: context, generated: result.generatedTokens,
                                                   allowed: mask)
                if !ends.contains(id) { constrained?.accept(token: id) }
            } else {
                id = sampler.sample(logits: logits, context: context, generated: result.generatedTokens)
            }
            result.generatedTokens.append(id)
            context.append(id)
            let lp = options.logprobs ? Sampler.logProbability(of: id, in: logits) : nil
            if let lp { result.logprobs?.append(lp) }
            if stops.contains(id) || ends.contains(id) {
                result.finishReason = .stop
                let tail = matcher.feed(detok.flush()).emit + matcher.flush()
                result.text += tail
                _ = onToken(GeneratedToken(id: id, text: tail, logprob: lp))
                break
            }
            let (visible, hitStop) = matcher.feed(detok.append(id))
            result.text += visible
            let keepGoing = onToken(GeneratedToken(id: id, text: visible, logprob: lp))
            if hitStop { result.finishReason = .stop; break }
            if !keepGoing { result.finishReason = .stop; break }
            if result.generatedTokens.count >= options.maxTokens || context.count >= limit {
                let tail = matcher.feed(detok.flush()).emit + matcher.flush()
                result.text += tail
                if !tail.isEmpty { _ = onToken(GeneratedToken(id: id, text: tail, logprob: nil)) }
                result.finishReason = .length
                break
            }
            _ = lap()
            logits = try model.forward([id], cache: cache, logits: .last, conditioning: conditioning)
            result.decodeSeconds += lap()
            result.decodeSteps += 1
        }
        return result
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
