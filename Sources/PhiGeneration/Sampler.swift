import Foundation

/// Sampling settings. Defaults reproduce Phi-4's generation_config: greedy decoding.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0
    /// 0 disables top-k.
    public var topK: Int = 0
    /// 1 disables top-p.
    public var topP: Float = 1
    /// 0 disables min-p.
    public var minP: Float = 0
    /// 1 disables it; > 1 discourages tokens already in the prompt or output (HF/CTRL rule).
    public var repetitionPenalty: Float = 1
    /// Subtracted once from the logit of every token already generated (OpenAI rule).
    public var presencePenalty: Float = 0
    /// Subtracted per occurrence from the logit of every token already generated (OpenAI rule).
    public var frequencyPenalty: Float = 0
    public var seed: UInt64? = nil

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0,
                seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.seed = seed
    }

    public func validate() throws {
        func check(_ ok: Bool, _ msg: String) throws { if !ok { throw GenerationError.invalidParameter(msg) } }
        try check(temperature.isFinite && temperature >= 0, "temperature must be ≥ 0, got \(temperature)")
        try check(topK >= 0, "top-k must be ≥ 0, got \(topK)")
        try check(topP > 0 && topP <= 1, "top-p must be in (0, 1], got \(topP)")
        try check(minP >= 0 && minP <= 1, "min-p must be in [0, 1], got \(minP)")
        try check(repetitionPenalty.isFinite && repetitionPenalty > 0, "repetition penalty must be > 0, got \(repetitionPenalty)")
        try check(presencePenalty.isFinite && abs(presencePenalty) <= 2, "presence penalty must be in [-2, 2]")
        try check(frequencyPenalty.isFinite && abs(frequencyPenalty) <= 2, "frequency penalty must be in [-2, 2]")
    }
}

/// The sampler chain: penalties → temperature → top-k → top-p → min-p → draw (HF's warper order).
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    var rng: SeededRandom

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SeededRandom(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// Picks the next token. `context` is prompt + generated ids (for the repetition penalty), `generated`
    /// the generated ids only (presence and frequency penalties).
    public mutating func sample(logits input: [Float], context: [Int], generated: [Int]) -> Int {
        switch distribution(logits: input, context: context, generated: generated) {
        case .token(let id): return id
        case .weighted(let ids, let probs, let sum):
            var r = rng.nextUnitFloat() * sum
            for (i, q) in probs.enumerated() {
                r -= q
                if r < 0 { return ids[i] }
            }
            return ids[ids.count - 1]
        }
    }

    /// What the chain leaves to draw from: one token (greedy), or candidates with unnormalized weights.
    enum Distribution {
        case token(Int)
        case weighted(ids: [Int], probs: [Double], sum: Double)
    }

    /// The chain up to the draw: penalties, temperature, top-k, top-p, min-p.
    func distribution(logits input: [Float], context: [Int], generated: [Int]) -> Distribution {
        var logits = input
        applyPenalties(&logits, context: context, generated: generated)
        let p = parameters
        if p.temperature == 0 { return .token(Sampler.argmax(logits)) }
        var cand: [(id: Int, logit: Float)] = []
        cand.reserveCapacity(logits.count)
        for (i, l) in logits.enumerated() where l > -Float.infinity { cand.append((i, l / p.temperature)) }
        if cand.isEmpty { return .token(Sampler.argmax(input)) }
        cand.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if p.topK > 0 && cand.count > p.topK { cand.removeLast(cand.count - p.topK) }
        let mx = cand[0].logit
        var probs = cand.map { Double(exp($0.logit - mx)) }
        var sum = probs.reduce(0, +)
        if p.topP < 1 {
            var acc = 0.0, keep = probs.count
            for (i, q) in probs.enumerated() {
                acc += q / sum
                if acc >= Double(p.topP) { keep = i + 1; break }
            }
            probs.removeLast(probs.count - keep)
            cand.removeLast(cand.count - keep)
            sum = probs.reduce(0, +)
        }
        if p.minP > 0 {
            let threshold = Double(p.minP) * probs[0]
            let keep = max(1, probs.firstIndex { $0 < threshold } ?? probs.count)
            probs.removeLast(probs.count - keep)
            cand.removeLast(cand.count - keep)
            sum = probs.reduce(0, +)
        }
        return .weighted(ids: cand.map(\.id), probs: probs, sum: sum)
    }

    /// Samples among the ids in `allowed` only (a constraint's mask, applied before the rest of the chain);
    /// logits past the mask's size are disallowed too.
    public mutating func sample(logits input: [Float], context: [Int], generated: [Int], allowed: TokenMask) -> Int {
        var masked = input
        masked.withUnsafeMutableBufferPointer { l in
            allowed.words.withUnsafeBufferPointer { w in
                for wi in 0..<(l.count + 63) / 64 {
                    let bits = wi < w.count ? w[wi] : 0
                    if bits == ~0 { continue }
                    let base = wi * 64
                    for j in 0..<min(64, l.count - base) where bits & (UInt64(1) << UInt64(j)) == 0 {
                        l[base + j] = -.infinity
                    }
                }
            }
        }
        return sample(logits: masked, context: context, generated: generated)
    }

    /// The penalty step of the chain: repetition (prompt + output), presence and frequency (output).
    public func applyPenalties(_ logits: inout [Float], context: [Int], generated: [Int]) {
        let p = parameters
        if p.repetitionPenalty != 1 {
            for id in Set(context) where id >= 0 && id < logits.count {
                let l = logits[id]
                logits[id] = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            var counts: [Int: Int] = [:]
            for id in generated { counts[id, default: 0] += 1 }
            for (id, n) in counts where id >= 0 && id < logits.count {
                logits[id] -= p.presencePenalty + p.frequencyPenalty * Float(n)
            }
        }
    }

    /// Index of the largest logit (the first one on ties, as torch.argmax).
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        var bv = -Float.infinity
        for (i, v) in logits.enumerated() where v > bv { bv = v; best = i }
        return best
    }

    /// The `count` largest log-probabilities, most likely first (ties: lower id first).
    public static func topLogProbabilities(_ logits: [Float], count: Int) -> [TokenLogprob] {
        guard count > 0, let mx = logits.max() else { return [] }
        var s = 0.0
        for v in logits { s += exp(Double(v - mx)) }
        let logZ = log(s)
        var best: [(id: Int, v: Float)] = []
        for (i, v) in logits.enumerated() where best.count < count || v > best[best.count - 1].v {
            let at = best.firstIndex { v > $0.v } ?? best.count
            best.insert((i, v), at: at)
            if best.count > count { best.removeLast() }
        }
        return best.map { TokenLogprob(id: $0.id, logprob: Float(Double($0.v - mx) - logZ)) }
    }

    /// log softmax(logits)[id], computed in double.
    public static func logProbability(of id: Int, in logits: [Float]) -> Float {
        guard let mx = logits.max(), id >= 0, id < logits.count else { return -.infinity }
        var s = 0.0
        for v in logits { s += exp(Double(v - mx)) }
        return Float(Double(logits[id] - mx) - log(s))
    }
}
