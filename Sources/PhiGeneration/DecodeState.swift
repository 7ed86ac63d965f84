import Foundation
import PhiModels
import PhiNN
import PhiTokenizer

/// One sequence's generation, one model call at a time: the prompt's prefill (in chunks), then one token per
/// step. `Generator.generate` runs a state to its end; the inference engine interleaves the steps of many
/// states (and a batched engine can later run the forward calls of several states as one).
public struct DecodeState {
    public let prompt: [Int]
    public let options: GenerationOptions
    public let cache: KVCache
    public let conditioning: Conditioning?
    /// Prompt tokens whose keys and values were already in the cache when the state was made (prefix reuse).
    public let cachedTokens: Int
    public private(set) var result: GenerationResult
    public private(set) var isFinished = false

    private let model: LanguageModel
    private let stops: Set<Int>
    /// The output constraint's matcher (nil: unconstrained) and the tokens that end a complete constrained output.
    private var constrained: ConstraintMatcher?
    private let ends: Set<Int>
    private var sampler: Sampler
    private var detok: StreamingDecoder
    private var matcher: StopStringMatcher
    private var context: [Int]
    /// Logits for the next token, once the prompt is in the cache.
    private var logits: [Float]?
    /// The last sampled token still has to go through the model before the next one can be sampled.
    private var pendingToken: Int?
    /// The token limit was reached: the next step flushes held-back text and finishes.
    private var atLimit = false
    private var clock = DispatchTime.now().uptimeNanoseconds

    /// Validates the request and prepares `existing` (or a new cache): the longest prefix of `prompt` it holds
    /// under the same conditioning is kept, the rest dropped.
    public init(generator: Generator, prompt: [Int], options: GenerationOptions, cache existing: KVCache? = nil,
                conditioning: Conditioning? = nil) throws {
        guard !prompt.isEmpty else { throw GenerationError.emptyPrompt }
        try options.sampling.validate()
        guard options.maxTokens >= 0 else { throw GenerationError.invalidParameter("max tokens must be ≥ 0") }
        try options.validate(vocabularySize: generator.model.vocabularySize)
        let constrained = try options.constraint.map { try $0.compile(for: generator.tokenizer).makeMatcher() }
        let limit = generator.model.contextLength
        guard prompt.count <= limit else { throw GenerationError.promptTooLong(tokens: prompt.count, limit: limit) }

        let cache = existing ?? generator.model.makeCache(maxLength: prompt.count + min(limit - prompt.count, options.maxTokens))  // no overflow near Int.max
        let sameConditioning = cache.conditioningID == conditioning.map { ObjectIdentifier($0) }
        let reused = sameConditioning ? Generator.reusablePrefix(cache: cache, prompt: prompt) : 0
        if reused == 0 { cache.reset() } else { cache.truncate(to: reused) }
        if reused == prompt.count { cache.truncate(to: reused - 1) } // recompute the last token for its logits

        self.prompt = prompt
        self.options = options
        self.cache = cache
        self.conditioning = conditioning
        cachedTokens = cache.count
        model = generator.model
        let stops = options.stopTokenIDs ?? generator.eosTokenIDs
        self.stops = stops
        self.constrained = constrained
        ends = constrained.map { Generator.endTokens(for: $0.compiled, stops: stops) } ?? []
        sampler = Sampler(options.sampling)
        detok = generator.tokenizer.makeStreamingDecoder(skipSpecial: true)
        matcher = StopStringMatcher(options.stop)
        context = prompt
        result = GenerationResult(promptTokens: prompt, generatedTokens: [], text: "", finishReason: .length,
                                  logprobs: options.logprobs ? [] : nil, prefillSeconds: 0, decodeSeconds: 0,
                                  decodeSteps: 0)
        isFinished = options.maxTokens == 0
    }

    /// Prompt tokens not yet in the cache.
    public var remainingPrompt: Int { logits == nil ? prompt.count - cache.count : 0 }

    private mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { clock = now }
        return Double(now - clock) / 1e9
    }

    /// Runs one model call — a prefill chunk of at most `maxPrefill` prompt tokens, or the forward pass of the
    /// last sampled token — and samples when logits are ready. Returns what became visible (usually one token;
    /// none while the prompt is still being read).
    public mutating func step(maxPrefill: Int = .max) throws -> [GeneratedToken] {
        guard !isFinished else { return [] }
        if atLimit {
            isFinished = true
            let tail = matcher.feed(detok.flush()).emit + matcher.flush()
            result.text += tail
            guard !tail.isEmpty, let last = result.generatedTokens.last else { return [] }
            return [GeneratedToken(id: last, text: tail, logprob: nil)]
        }
        if logits == nil {
            let end = cache.count + min(prompt.count - cache.count, max(1, maxPrefill))
            let out = try model.forward(Array(prompt[cache.count..<end]), cache: cache, logits: .last, conditioning: conditioning)
            result.prefillSeconds += lap()
            guard cache.count >= prompt.count else { return [] }
            logits = out
        } else if let id = pendingToken {
            _ = lap()
            logits = try model.forward([id], cache: cache, logits: .last, conditioning: conditioning)
            result.decodeSeconds += lap()
            result.decodeSteps += 1
            pendingToken = nil
        }
        guard var next = logits else { return [] }
        let forced = result.generatedTokens.count < options.forcedOutput.count ? options.forcedOutput[result.generatedTokens.count] : nil
        if !options.logitBias.isEmpty || forced != nil {
            for (id, b) in options.logitBias where id >= 0 && id < next.count { next[id] += b }
            if let f = forced, f >= 0, f < next.count { next[f] = Float.greatestFiniteMagnitude }
        }
        let raw = logits ?? next
        let id: Int
        if let f = forced.flatMap({ $0 >= 0 && $0 < next.count ? $0 : nil }) {
            id = f
            if !ends.contains(id) { _ = constrained?.accept(token: id) }
        } else if constrained != nil {
            // Mask, then sample; a single allowed token (a forced stretch) is taken without sampling.
            let mask = constrained?.mask(endTokens: ends) ?? TokenMask(count: 0)
            if mask.isEmpty {  // complete, and no end token to emit
                isFinished = true
                result.finishReason = .stop
                let tail = matcher.feed(detok.flush()).emit + matcher.flush()
                result.text += tail
                guard !tail.isEmpty, let last = result.generatedTokens.last else { return [] }
                return [GeneratedToken(id: last, text: tail, logprob: nil)]
            }
            id = mask.single ?? sampler.sample(logits: next, context: context, generated: result.generatedTokens, allowed: mask)
            if !ends.contains(id) { _ = constrained?.accept(token: id) }
        } else {
            id = sampler.sample(logits: next, context: context, generated: result.generatedTokens)
        }
        result.generatedTokens.append(id)
        context.append(id)
        let lp = options.logprobs ? Sampler.logProbability(of: id, in: raw) : nil
        if let lp { result.logprobs?.append(lp) }
        let top = options.topLogprobs > 0 ? Sampler.topLogProbabilities(raw, count: options.topLogprobs) : []
        if stops.contains(id) || ends.contains(id) {
            isFinished = true
            result.finishReason = .stop
            let tail = matcher.feed(detok.flush()).emit + matcher.flush()
            result.text += tail
            return [GeneratedToken(id: id, text: tail, logprob: lp, topLogprobs: top)]
        }
        let (visible, hitStop) = matcher.feed(detok.append(id))
        result.text += visible
        let token = GeneratedToken(id: id, text: visible, logprob: lp, topLogprobs: top)
        if hitStop {
            isFinished = true
            result.finishReason = .stop
        } else if result.generatedTokens.count >= options.maxTokens || context.count >= model.contextLength {
            atLimit = true
            result.finishReason = .length
        } else {
            pendingToken = id
        }
        return [token]
    }

    /// Ends the sequence early at the consumer's request (finish reason `stop`).
    public mutating func finishEarly() {
        guard !isFinished else { return }
        isFinished = true
        result.finishReason = .stop
    }
}
