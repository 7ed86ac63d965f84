/// How a single stream drafts tokens for speculative decoding (verified exactly, so the output is the same
/// as without it: token for token under greedy decoding, in distribution when sampling).
public enum DraftMode: String, Sendable, CaseIterable {
    /// One token per forward pass.
    case none
    /// Prompt lookup (the default): the tokens that followed the latest earlier occurrence of the last few
    /// tokens (in the prompt or the output so far) are proposed and checked in one multi-row pass. Pays where
    /// the answer copies from the input (edits, summaries with quotes, extraction, tool-call JSON). Adaptive, so
    /// it cannot lose much elsewhere: the draft length follows the recent acceptance and the measured cost of a
    /// verify row, and drafting stops (probing again now and then) while it does not pay.
    case lookup
}
