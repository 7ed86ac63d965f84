/// Prompt-lookup drafting with an adaptive draft length: proposes the tokens that followed the most recent
/// earlier occurrence of the context's last n tokens (n from `maxNgram` down to `minNgram`), and learns from
/// each verification how long drafts should be, switching itself off for a while when they are rarely accepted.
struct PromptLookupDrafter {
    var maxNgram = 3
    var minNgram = 2
    let maxLength = 16
    /// Tokens proposed in the next draft (grows after full acceptance, shrinks after a rejection).
    private(set) var length = 4
    /// Recent acceptance (accepted / proposed), exponentially weighted.
    private var acceptance = 1.0
    /// Tokens to decode plainly before drafting again (after poor acceptance), and the next back-off.
    private var pause = 0
    private var backOff = 16
    private(set) var proposed = 0
    private(set) var accepted = 0

    /// A draft of at most `limit` tokens to follow `context`, or [] (no match, paused, or limit 0).
    mutating func draft(context: [Int], limit: Int) -> [Int] {
        if pause > 0 { pause -= 1; return [] }
        let k = min(length, limit)
        guard k > 0, context.count > minNgram else { return [] }
        let n0 = context.count
        for n in stride(from: min(maxNgram, n0 - 1), through: minNgram, by: -1) {
            // Latest earlier occurrence of the last n tokens that has at least one token after it.
            var i = n0 - n - 1
            while i >= 0 {
                var match = true
                for j in 0..<n where context[i + j] != context[n0 - n + j] { match = false; break }
                if match { return Array(context[(i + n)..<min(n0, i + n + k)]) }
                i -= 1
            }
        }
        return []
    }

    /// Learns from a verification: `count` tokens proposed, the first `kept` of them accepted.
    mutating func record(proposed count: Int, accepted kept: Int) {
        guard count > 0 else { return }
        proposed += count
        accepted += kept
        acceptance = 0.7 * acceptance + 0.3 * Double(kept) / Double(count)
        length = kept == count ? min(maxLength, length * 2) : max(1, kept + 1)
        if acceptance < 0.25 {
            pause = backOff
            backOff = min(backOff * 2, 256)
            acceptance = 0.5  // a fresh start after the pause
        } else if acceptance > 0.5 {
            backOff = 16
        }
    }
}
