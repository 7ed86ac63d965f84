extension Sampler {
    /// Verifies a speculative draft token against the distribution the chain gives: returns the token to emit
    /// and whether it is the draft. Speculative sampling with the draft as a point mass (Leviathan et al.,
    /// Chen et al.): the draft is kept with probability p(draft), otherwise a token is drawn from the residual
    /// p with the draft removed, renormalized. The emitted token is distributed exactly as `sample` draws it.
    /// Greedy decoding keeps the draft exactly when it is the argmax.
    public mutating func verify(draft: Int, logits: [Float], context: [Int], generated: [Int]) -> (id: Int, accepted: Bool) {
        switch distribution(logits: logits, context: context, generated: generated) {
        case .token(let id):
            return (id, id == draft)
        case .weighted(let ids, let probs, let sum):
            let k = ids.firstIndex(of: draft)
            let pDraft = k.map { probs[$0] / sum } ?? 0
            if pDraft > 0 && rng.nextUnitFloat() < pDraft { return (draft, true) }
            let rest = sum - (k.map { probs[$0] } ?? 0)
            guard rest > 0, let last = ids.indices.last(where: { $0 != k }) else { return (draft, true) }  // the draft held all the mass
            var r = rng.nextUnitFloat() * rest
            for (i, q) in probs.enumerated() where i != k {
                r -= q
                if r < 0 { return (ids[i], false) }
            }
            return (ids[last], false)  // rounding left r ≥ 0 after the last weight
        }
    }
}
