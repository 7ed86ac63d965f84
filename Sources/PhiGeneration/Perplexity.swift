import Foundation
import PhiModels

/// Perplexity of a model on a text, and its divergence from a reference model, the way llama.cpp's
/// `llama-perplexity` measures them: the raw text is tokenized once (BOS first when the tokenizer adds one),
/// cut into non-overlapping windows of `context` tokens, and each window runs from an empty KV cache (its
/// first token replaced by BOS when the tokenizer adds one). In each window only the second half is
/// scored: the logits at positions ctx/2 … ctx−2 predict tokens ctx/2+1 … ctx−1 (ctx − ctx/2 − 1 tokens),
/// so every scored token has at least ctx/2 tokens of context.
public enum PerplexityError: Error, CustomStringConvertible {
    case contextTooSmall(Int)
    case contextTooLong(context: Int, limit: Int, model: String)
    case textTooShort(tokens: Int, context: Int)
    case vocabularyMismatch(model: Int, reference: Int)
    case tokenizationMismatch(firstDifference: Int)

    public var description: String {
        switch self {
        case .contextTooSmall(let c): return "--ctx \(c) is too small: windows need at least 4 tokens"
        case .contextTooLong(let c, let l, let m):
            return "--ctx \(c) is larger than the context of \(m) (\(l) tokens)"
        case .textTooShort(let t, let c):
            return "the text has \(t) tokens, fewer than one window of --ctx \(c) tokens"
        case .vocabularyMismatch(let m, let r):
            return "the two models have different vocabularies (\(m) and \(r) logits): KL divergence needs the same one"
        case .tokenizationMismatch(let i):
            return "the two models tokenize the text differently (first difference at token \(i)): they must share a tokenizer"
        }
    }
}

/// Running mean of negative log-likelihoods, with llama-perplexity's ± estimate of the perplexity.
public struct NLLStatistics: Sendable {
    public private(set) var count = 0
    private var sum = 0.0, sumSquares = 0.0

    public init() {}

    public mutating func add(_ nll: Double) {
        count += 1
        sum += nll
        sumSquares += nll * nll
    }

    public var meanNLL: Double { count > 0 ? sum / Double(count) : 0 }
    public var perplexity: Double { exp(meanNLL) }
    /// perplexity × the standard error of the mean NLL (first-order propagation, as llama-perplexity prints).
    public var perplexityError: Double {
        guard count > 1 else { return 0 }
        let m = meanNLL
        let variance = max(0, sumSquares / Double(count) - m * m)
        return perplexity * (variance / Double(count - 1)).squareRoot()
    }
}

/// KL(reference ‖ model) per scored position and how often both models' top tokens agree.
public struct DivergenceStatistics: Sendable {
    public private(set) var values: [Double] = []
    public private(set) var sameTop = 0

    public init() {}

    public mutating func add(kl: Double, sameTop same: Bool) {
        values.append(kl)
        if same { sameTop += 1 }
    }

    public var count: Int { values.count }
    public var mean: Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
    /// Standard error of the mean.
    public var meanError: Double {
        guard values.count > 1 else { return 0 }
        let m = mean
        let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
        return (v / Double(values.count)).squareRoot()
    }
    public var maximum: Double { values.max() ?? 0 }
    /// The p-quantile (0…1) with linear interpolation between the sorted values.
    public func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        let x = p * Double(s.count - 1)
        let i = Int(x.rounded(.down)), f = x - Double(i)
        return i + 1 < s.count ? s[i] + f * (s[i + 1] - s[i]) : s[i]
    }
    /// Fraction of scored positions where both argmaxes are the same token.
    public var topAgreement: Double { values.isEmpty ? 0 : Double(sameTop) / Double(values.count) }
    public var topAgreementError: Double {
        guard values.count > 1 else { return 0 }
        let p = topAgreement
        return (p * (1 - p) / Double(values.count - 1)).squareRoot()
    }
}

public struct PerplexityResult: Sendable {
    public var textTokens = 0
    public var context = 0
    public var chunks = 0
    /// Chunks the text holds (may exceed `chunks` when a limit was given).
    public var availableChunks = 0
    public var model = NLLStatistics()
    public var reference: NLLStatistics?
    public var divergence: DivergenceStatistics?
    /// The running perplexity after each chunk (what llama-perplexity prints as [1]…,[2]…).
    public var runningPerplexity: [Double] = []
    public var seconds = 0.0
    public var scoredTokens: Int { model.count }
}

public struct PerplexityEvaluator {
    public let model: LoadedModel
    public let reference: LoadedModel?
    public let context: Int

    /// Checks the window size against both models and the vocabularies against each other.
    public init(model: LoadedModel, reference: LoadedModel? = nil, context: Int = 512,
                modelName: String = "the model", referenceName: String = "the reference") throws {
        guard context >= 4 else { throw PerplexityError.contextTooSmall(context) }
        guard context <= model.model.contextLength else {
            throw PerplexityError.contextTooLong(context: context, limit: model.model.contextLength, model: modelName)
        }
        if let r = reference {
            guard context <= r.model.contextLength else {
                throw PerplexityError.contextTooLong(context: context, limit: r.model.contextLength, model: referenceName)
            }
            guard r.model.vocabularySize == model.model.vocabularySize else {
                throw PerplexityError.vocabularyMismatch(model: model.model.vocabularySize, reference: r.model.vocabularySize)
            }
        }
        self.model = model
        self.reference = reference
        self.context = context
    }

    /// The raw text's ids (special-token text stays text), BOS first when the tokenizer adds one.
    public static func tokenize(_ text: String, with loaded: LoadedModel) -> [Int] {
        let ids = loaded.tokenizer.encode(text, parseSpecial: false)
        if loaded.addsBOSToken, let bos = loaded.tokenizer.bosTokenID { return [bos] + ids }
        return ids
    }

    /// Non-overlapping windows of `context` tokens (at most `limit`), each starting with BOS when the
    /// tokenizer adds one, as llama-perplexity does.
    public func windows(_ ids: [Int], limit: Int? = nil) throws -> [[Int]] {
        let available = ids.count / context
        guard available >= 1 else { throw PerplexityError.textTooShort(tokens: ids.count, context: context) }
        let n = min(available, limit ?? available)
        return (0..<n).map { i in
            var w = Array(ids[(i * context)..<((i + 1) * context)])
            if model.addsBOSToken, let bos = model.tokenizer.bosTokenID { w[0] = bos }
            return w
        }
    }

    /// Log-softmax of one logits row, in double precision, plus its argmax (lowest id on ties).
    public static func logSoftmax(_ row: UnsafeBufferPointer<Float>, into out: inout [Double]) -> Int {
        var best = 0
        var maxv = -Float.infinity
        for (i, v) in row.enumerated() where v > maxv { maxv = v; best = i }
        let m = Double(maxv)
        var s = 0.0
        for v in row { s += Foundation.exp(Double(v) - m) }
        let lse = m + Foundation.log(s)
        if out.count != row.count { out = [Double](repeating: 0, count: row.count) }
        for i in 0..<row.count { out[i] = Double(row[i]) - lse }
        return best
    }

    /// Scores `text`; `progress` gets (chunks done, chunks, the result so far) after each chunk.
    public func evaluate(text: String, chunks limit: Int? = nil,
                         progress: (Int, Int, PerplexityResult) -> Void = { _, _, _ in }) throws -> PerplexityResult {
        let ids = Self.tokenize(text, with: model)
        if let r = reference {
            let refIDs = Self.tokenize(text, with: r)
            if refIDs != ids {
                let i = zip(ids, refIDs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ids.count, refIDs.count)
                throw PerplexityError.tokenizationMismatch(firstDifference: i)
            }
        }
        let ws = try windows(ids, limit: limit)
        var result = PerplexityResult()
        result.textTokens = ids.count
        result.context = context
        result.chunks = ws.count
        result.availableChunks = ids.count / context
        if reference != nil {
            result.reference = NLLStatistics()
            result.divergence = DivergenceStatistics()
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let V = model.model.vocabularySize
        let first = context / 2
        var lsModel: [Double] = [], lsRef: [Double] = []
        for (k, w) in ws.enumerated() {
            let logits = try model.model.forward(w, cache: model.model.makeCache(maxLength: context), logits: .all)
            let refLogits = try reference.map { try $0.model.forward(w, cache: $0.model.makeCache(maxLength: context), logits: .all) }
            for j in first..<(context - 1) {
                let target = w[j + 1]
                let top = logits.withUnsafeBufferPointer { Self.logSoftmax(UnsafeBufferPointer(rebasing: $0[(j * V)..<((j + 1) * V)]), into: &lsModel) }
                result.model.add(-lsModel[target])
                guard let refLogits else { continue }
                let refTop = refLogits.withUnsafeBufferPointer { Self.logSoftmax(UnsafeBufferPointer(rebasing: $0[(j * V)..<((j + 1) * V)]), into: &lsRef) }
                result.reference?.add(-lsRef[target])
                var kl = 0.0
                for i in 0..<V where lsRef[i] > -700 { kl += Foundation.exp(lsRef[i]) * (lsRef[i] - lsModel[i]) }
                result.divergence?.add(kl: kl, sameTop: top == refTop)
            }
            result.runningPerplexity.append(result.model.perplexity)
            result.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            progress(k + 1, ws.count, result)
        }
        return result
    }
}
