import Foundation
import PhiModels
import PhiNN
import PhiTokenizer

/// One sequence's generation, one model call at a time: the prompt's prefill (in chunks), then one token per
/// step (or, with speculative drafting, a drafted run of tokens verified in one multi-row call). Each step is
/// `nextCall` (the model call the state needs) then `complete` (what the call returned): `Generator.generate`
/// runs them back to back through `step`; the inference engine runs the calls of all its states as one
/// batched forward pass.
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
    /// The model call handed out by `nextCall` and not yet completed.
    private var planned: Planned?
    private enum Planned {
        case prefill
        case decode
        /// The pending token and a draft after it; the cache held `base` positions before the call.
        case verify(draft: [Int], base: Int)
    }
    private var drafter: PromptLookupDrafter?
    /// Whether the next calls may carry a draft (when drafting is on). A scheduler that decodes several
    /// sequences in one pass turns it off: there the weights are already shared and draft rows only add work.
    public var mayDraft = true
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
        // Verification replays the per-token rules row by row; a constraint's matcher is left to plain decoding.
        drafter = options.draft != .none && constrained == nil ? PromptLookupDrafter() : nil
    }

    /// Prompt tokens not yet in the cache.
    public var remainingPrompt: Int { logits == nil ? prompt.count - cache.count : 0 }

    private mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { clock = now }
        return Double(now - clock) / 1e9
    }

    /// Runs one model call — a prefill chunk of at most `maxPrefill` prompt tokens, or the forward pass of the
    /// last sampled token (with a draft after it when drafting) — and samples when logits are ready. Returns
    /// what became visible (usually one token; none while the prompt is still being read).
    public mutating func step(maxPrefill: Int = .max) throws -> [GeneratedToken] {
        guard let call = nextCall(maxPrefill: maxPrefill) else { return try complete(nil) }
        let out = try model.forward(call.tokens, cache: call.cache, logits: call.logits, conditioning: call.conditioning)
        return try complete(out)
    }

    /// The model call this state needs next (nil when the next `complete` needs none: finished, or flushing at
    /// the token limit). Run it (alone or in a batch) and pass its logits to `complete`.
    public mutating func nextCall(maxPrefill: Int = .max) -> BatchItem? {
        planned = nil
        guard !isFinished, !atLimit else { return nil }
        if logits == nil {
            let end = cache.count + min(prompt.count - cache.count, max(1, maxPrefill))
            planned = .prefill
            return BatchItem(tokens: Array(prompt[cache.count..<end]), cache: cache, logits: .last, conditioning: conditioning)
        }
        guard let id = pendingToken else { return nil }
        _ = lap()
        if drafter != nil && mayDraft {
            let draft = makeDraft()
            if !draft.isEmpty {
                planned = .verify(draft: draft, base: cache.count)
                return BatchItem(tokens: [id] + draft, cache: cache, logits: .all, conditioning: conditioning)
            }
        }
        planned = .decode
        return BatchItem(tokens: [id], cache: cache, logits: .last, conditioning: conditioning)
    }

    /// A draft to verify after the pending token, within the token limit, the cache and the rope regime.
    private mutating func makeDraft() -> [Int] {
        let base = cache.count  // the pending token goes to position `base`
        var limit = min(options.maxTokens - result.generatedTokens.count, cache.maxLength - base, model.contextLength - base) - 1
        if let b = model.ropeRegimeBoundary, base + 1 <= b { limit = min(limit, b - base - 1) }
        return drafter?.draft(context: context, limit: limit) ?? []
    }

    /// Takes the logits of the call `nextCall` returned (nil when it returned none) and samples.
    public mutating func complete(_ out: [Float]?) throws -> [GeneratedToken] {
        guard !isFinished else { return [] }
        if atLimit {
            isFinished = true
            let tail = matcher.feed(detok.flush()).emit + matcher.flush()
            result.text += tail
            guard !tail.isEmpty, let last = result.generatedTokens.last else { return [] }
            return [GeneratedToken(id: last, text: tail, logprob: nil)]
        }
        let call = planned
        planned = nil
        switch call {
        case .prefill?:
            result.prefillSeconds += lap()
            guard cache.count >= prompt.count else { return [] }
            logits = out
        case .decode?:
            logits = out
            let seconds = lap()
            result.decodeSeconds += seconds
            result.decodeSteps += 1
            pendingToken = nil
            if mayDraft { drafter?.recordPlain(seconds: seconds) }
            defer { result.decodeSeconds += lap() }  // sampling is part of the step's cost
            return try emitNext()
        case .verify(let draft, let base)?:
            defer { result.decodeSeconds += lap() }
            return try verify(draft: draft, base: base, logits: out ?? [])
        case nil:
            break
        }
        return try emitNext()
    }

    /// Rows 0…k of a verify call are the distributions after the pending token and after each draft token.
    /// Tokens are chosen row by row with the plain per-token rules; a chosen token equal to the draft lets the
    /// next row count, the first other one ends the run, and the cache drops the draft tokens after it.
    private mutating func verify(draft: [Int], base: Int, logits out: [Float]) throws -> [GeneratedToken] {
        let V = model.vocabularySize
        let seconds = lap()
        result.decodeSeconds += seconds
        result.draftCalls += 1
        pendingToken = nil
        var emitted: [GeneratedToken] = []
        var kept = 0
        for j in 0...draft.count where (j + 1) * V <= out.count {
            logits = Array(out[(j * V)..<((j + 1) * V)])
            result.decodeSteps += 1
            let (tokens, chosen) = try emitNext(draft: j < draft.count ? draft[j] : nil)
            emitted += tokens
            guard j < draft.count, chosen == draft[j], pendingToken != nil else { break }
            kept += 1
            pendingToken = nil
        }
        drafter?.record(proposed: draft.count, accepted: kept, seconds: seconds)
        result.draftedTokens += draft.count
        result.acceptedDraftTokens += kept
        // Keep the pending token and the accepted drafts; the next call feeds the last chosen token.
        cache.truncate(to: base + 1 + kept)
        return emitted
    }

    private mutating func emitNext() throws -> [GeneratedToken] {
        try emitNext(draft: nil).tokens
    }

    /// Chooses the next token from `logits` (verifying `draft` when given) and emits it.
    private mutating func emitNext(draft: Int?) throws -> (tokens: [GeneratedToken], id: Int?) {
        guard var next = logits else { return ([], nil) }
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
                guard !tail.isEmpty, let last = result.generatedTokens.last else { return ([], nil) }
                return ([GeneratedToken(id: last, text: tail, logprob: nil)], nil)
            }
            id = mask.single ?? sampler.sample(logits: next, context: context, generated: result.generatedTokens, allowed: mask)
            if !ends.contains(id) { _ = constrained?.accept(token: id) }
        } else if let d = draft {
            id = sampler.verify(draft: d, logits: next, context: context, generated: result.generatedTokens).id
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
            return ([GeneratedToken(id: id, text: tail, logprob: lp, topLogprobs: top)], id)
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
        return ([token], id)
    }

    /// Ends the sequence early at the consumer's request (finish reason `stop`).
    public mutating func finishEarly() {
        guard !isFinished else { return }
        isFinished = true
        result.finishReason = .stop
    }
}
