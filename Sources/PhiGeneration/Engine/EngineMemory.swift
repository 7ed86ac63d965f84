import Foundation
import PhiKernels
import PhiModels
import PhiNN

/// What the engine's memory budget is spent on, and how much one request needs before it may take a slot:
/// its KV cache at full length (prompt plus `max_tokens`, capped by the context) and its per-sequence scratch
/// (logits rows, sampler copies). The step's activations (at most a prefill chunk plus one row per slot, with
/// drafts) are set aside once. What is left holds the prefix cache, which gives way (LRU, or to disk) when a
/// request needs the room.
struct EngineMemory {
    let budget: Int
    let kvBytesPerToken: Int
    /// Set aside for the batched forward pass's activations and logits.
    let stepScratch: Int
    /// Per sequence: a few vocabulary-sized float rows (logits, a draft's verify rows, sampler copies).
    let sequenceScratch: Int

    /// Rows a decode step may add per sequence (the pending token and a prompt-lookup draft).
    static let rowsPerSequence = 1 + PromptLookupDrafter.longestDraft

    init(model: LanguageModel, budget: Int, prefillChunk: Int, maxActive: Int) {
        self.budget = max(0, budget)
        kvBytesPerToken = model.makeCache(maxLength: 1).bytesPerPosition
        let V = model.vocabularySize, H = model.hiddenSize
        let rows = prefillChunk.clampedSum(maxActive.clampedProduct(Self.rowsPerSequence))
        // Hidden state, q/k/v, attention output, gate/up and their product: about 16 hidden-sized rows per
        // token, plus the logits of the rows that want them.
        stepScratch = rows.clampedProduct(16 * H * 4).clampedSum(maxActive.clampedProduct(Self.rowsPerSequence * V * 4))
        sequenceScratch = (Self.rowsPerSequence + 4).clampedProduct(V * 4)
    }

    /// Positions a request's cache may grow to (the same rule as `DecodeState`).
    static func maxLength(promptTokens: Int, maxTokens: Int, contextLength: Int) -> Int {
        promptTokens + min(max(0, contextLength - promptTokens), max(0, maxTokens))
    }

    func reservation(promptTokens: Int, maxTokens: Int, contextLength: Int) -> Int {
        let n = Self.maxLength(promptTokens: promptTokens, maxTokens: maxTokens, contextLength: contextLength)
        // A cache's capacity grows by doubling but never past its maximum length, rounded up to a whole key block.
        return n.clampedSum(Kernels.keyBlock - 1).clampedProduct(kvBytesPerToken).clampedSum(sequenceScratch)
    }

    /// Bytes requests may reserve in total (the rest of the budget after the step's scratch).
    var forRequests: Int { max(0, budget - stepScratch) }

    /// The default budget: half of what physical memory (or the cgroup's limit, when lower) leaves after the
    /// weights, and at least 256 MiB — room for the OS, other processes and allocator slack.
    static func defaultBudget(weightBytes: Int) -> Int {
        var physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
            physical = min(physical, limit)
        }
        return max(256 << 20, (physical - max(0, weightBytes)) / 2)
    }
}

extension Int {
    /// Sizes that saturate instead of trapping (a request's size comes from its input).
    func clampedProduct(_ other: Int) -> Int {
        let (p, o) = multipliedReportingOverflow(by: other)
        return o ? .max : p
    }

    func clampedSum(_ other: Int) -> Int {
        let (s, o) = addingReportingOverflow(other)
        return o ? .max : s
    }
}
