/// Prompt-lookup drafting that decides for itself whether and how far to draft, so that drafting cannot make a
/// stream slower. It proposes the tokens that followed the most recent earlier occurrence of the context's last n
/// tokens (n from `maxNgram` down to `minNgram`), and before each step picks the draft length k that maximizes
/// the expected tokens per unit of time:
///
///     gain(k) = (1 + p + … + p^k) / (1 + c·k)
///
/// where p is the recent probability that a draft token is accepted given the ones before it were (a geometric
/// model, learned from every verification, kept apart per match length: a 4-token match predicts far better
/// than a 2-token one, measured 90 % against 50 % on a code edit) and c the cost of one more row in a verify call relative to a
/// one-row call (learned from the calls' wall times: small for a memory-bound model, ~0.2–0.5 on a CPU where a
/// row's arithmetic is a fair part of a weight read). When no k gains, it decodes plainly and probes with a
/// one-token draft now and then (at growing intervals) to notice when the output starts copying again.
struct PromptLookupDrafter {
    var maxNgram = 4
    var minNgram = 1
    /// 7 drafts + the pending token = 8 rows, one tile of the quantized kernels (they take 8 rows per pass over
    /// a weight panel; a 9th row costs a second pass: measured 1.2 ms → 2.8 ms per extra row on SmolLM2).
    var maxLength = PromptLookupDrafter.longestDraft
    static let longestDraft = 7
    /// Drafts must promise at least this factor over plain decoding (covers the noise in p and c). Since the
    /// multi-row kernels prefetch, an extra verify row is cheap, so even 1-token matches (their own acceptance
    /// bucket) pay: on SmolLM2, minNgram 2 → 1 and margin 1.1 → 1.02 took the summary task from 1.22x to 1.44x,
    /// free generation from 1.06x to 1.13x, code edit unchanged (tools/bench/speculative.py, 2 repeats each).
    var margin = 1.02

    /// Per match length (index n − minNgram): discounted counts of accepted draft tokens and of rejections
    /// (the prior: p = 0.5, weak).
    private var hits: [Double] = [], misses: [Double] = []
    /// The match length of the draft handed out last.
    private var lastMatch = 0
    /// Relative cost of one more row in a verify call (the prior until both kinds of call were timed).
    private(set) var rowCost = 0.3
    /// Recent wall time of a one-row call (nil until one was timed).
    private var plainSeconds: Double?
    /// Plain steps since the last draft, and how many to wait before probing while drafting does not pay.
    private var idle = 0
    private var probeInterval = 8
    private(set) var proposed = 0
    private(set) var accepted = 0

    private func bucket(_ n: Int) -> Int { min(max(n, minNgram), maxNgram) - minNgram }

    /// Recent probability that a draft token from a match of `n` tokens is accepted (given the ones before it were).
    func acceptance(match n: Int) -> Double {
        let b = bucket(n)
        guard b < hits.count else { return 0.5 }
        return hits[b] / (hits[b] + misses[b])
    }

    /// The draft length that maximizes the expected gain within `limit` for a match of `n` tokens (0: decode plainly).
    func bestLength(limit: Int, match n: Int) -> Int {
        let p = acceptance(match: n), c = rowCost
        var best = 0, bestGain = margin
        var expected = 1.0, pk = 1.0
        for k in stride(from: 1, through: min(maxLength, limit), by: 1) {
            pk *= p
            expected += pk
            let gain = expected / (1 + c * Double(k))
            if gain > bestGain { best = k; bestGain = gain }
        }
        return best
    }

    /// A draft of at most `limit` tokens to follow `context`, or [] (no match, not worth it, or limit 0).
    mutating func draft(context: [Int], limit: Int) -> [Int] {
        guard plainSeconds != nil, limit > 0 else { return [] }  // time one plain call first: the cost model needs it
        let (found, n) = lookup(context: context, count: min(maxLength, limit))
        guard !found.isEmpty else { return [] }
        var k = bestLength(limit: found.count, match: n)
        if k == 0 {
            idle += 1
            guard idle >= probeInterval else { return [] }
            k = 1  // a probe: one row's cost at most
        }
        idle = 0
        lastMatch = n
        return Array(found.prefix(k))
    }

    /// The `count` tokens after the latest earlier occurrence of the longest matching suffix of `context`, and
    /// that suffix's length.
    func lookup(context: [Int], count k: Int) -> (tokens: [Int], match: Int) {
        let n0 = context.count
        guard k > 0, n0 > minNgram else { return ([], 0) }
        for n in stride(from: min(maxNgram, n0 - 1), through: minNgram, by: -1) {
            // Latest earlier occurrence of the last n tokens that has at least one token after it.
            var i = n0 - n - 1
            while i >= 0 {
                var match = true
                for j in 0..<n where context[i + j] != context[n0 - n + j] { match = false; break }
                if match { return (Array(context[(i + n)..<min(n0, i + n + k)]), n) }
                i -= 1
            }
        }
        return ([], 0)
    }

    /// Learns from a plain one-row call that took `seconds`.
    mutating func recordPlain(seconds: Double) {
        guard seconds > 0, seconds.isFinite else { return }
        plainSeconds = plainSeconds.map { 0.8 * $0 + 0.2 * seconds } ?? seconds
    }

    /// Learns from a verification: `count` tokens proposed, the first `kept` of them accepted, the call (one
    /// row per proposed token plus one) took `seconds`.
    mutating func record(proposed count: Int, accepted kept: Int, seconds: Double) {
        guard count > 0 else { return }
        proposed += count
        accepted += kept
        // Recent behaviour matters: the output moves between copying and writing anew.
        if hits.isEmpty {
            hits = Array(repeating: 1, count: maxNgram - minNgram + 1)
            misses = hits
        }
        let b = bucket(lastMatch)
        hits[b] = 0.85 * hits[b] + Double(kept)
        misses[b] = 0.85 * misses[b] + (kept < count ? 1 : 0)
        if let t1 = plainSeconds, t1 > 0, seconds > 0, seconds.isFinite {
            let sample = min(2, max(0.01, (seconds / t1 - 1) / Double(count)))
            rowCost = 0.85 * rowCost + 0.15 * sample
        }
        if bestLength(limit: maxLength, match: lastMatch) > 0 {
            probeInterval = 8
        } else if count == 1 && kept == 0 {
            probeInterval = min(probeInterval * 2, 128)  // a failed probe: wait longer before the next
        }
    }
}
