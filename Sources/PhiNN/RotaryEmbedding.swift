import Foundation

/// Rotary position embedding for the first `rotaryDim` dims of each head, rotate_half convention.
///
/// Two kinds, as transformers defines them for Phi-3:
/// - default: inv_freq[i] = 1 / θ^(2i/d), no scaling;
/// - LongRoPE: inv_freq[i] = 1 / (ext[i] · θ^(2i/d)) with ext = short factors while the whole sequence
///   (max position + 1) fits in `originalMaxPositionEmbeddings`, long factors beyond, and cos/sin multiplied
///   by the attention factor at every length.
public struct RotaryEmbedding: Sendable {
    public enum Kind: Sendable, Equatable {
        case standard
        case longRoPE(shortFactors: [Float], longFactors: [Float], originalMaxPositionEmbeddings: Int)
    }

    public let kind: Kind
    public let rotaryDim: Int
    /// Pairs (2i, 2i+1) rotate together (GGML's "normal" mode, used by llama.cpp's Llama files, whose
    /// converter permutes q/k rows) instead of (i, i + d/2) (rotate_half, transformers and Phi-3).
    public let interleaved: Bool
    public let attentionFactor: Float
    let invFreqShort: [Float]
    let invFreqLong: [Float]

    public init(kind: Kind, rotaryDim: Int, theta: Double, attentionFactor: Float, interleaved: Bool = false) {
        self.kind = kind
        self.rotaryDim = rotaryDim
        self.interleaved = interleaved
        self.attentionFactor = attentionFactor
        let half = rotaryDim / 2
        // Mirrors torch: (arange(0, d, 2).float() / d) in f32, θ ** that in f32, then 1 / (ext · base).
        let base: [Float] = (0..<half).map { i in
            let e = Float(2 * i) / Float(rotaryDim)
            return Float(pow(Double(Float(theta)), Double(e)))
        }
        switch kind {
        case .standard:
            invFreqShort = base.map { 1 / $0 }
            invFreqLong = invFreqShort
        case .longRoPE(let s, let l, _):
            invFreqShort = zip(s, base).map { 1 / ($0 * $1) }
            invFreqLong = zip(l, base).map { 1 / ($0 * $1) }
        }
    }

    /// Whether a forward pass whose last position is `lastPosition` uses the long factors.
    public func usesLongFactors(lastPosition: Int) -> Bool {
        if case .longRoPE(_, _, let original) = kind { return lastPosition + 1 > original }
        return false
    }

    /// cos and sin tables [count, rotaryDim] for positions start ..< start+count.
    public func tables(start: Int, count: Int, long: Bool) -> (cos: [Float], sin: [Float]) {
        let inv = long ? invFreqLong : invFreqShort
        let half = rotaryDim / 2
        // At least one element so the buffers always have an address, even with nothing to rotate.
        var c = [Float](repeating: 0, count: max(1, count * rotaryDim))
        var s = [Float](repeating: 0, count: max(1, count * rotaryDim))
        for t in 0..<count {
            let p = Float(start + t)
            for i in 0..<half {
                let angle = p * inv[i]
                let cv = Foundation.cos(angle) * attentionFactor
                let sv = Foundation.sin(angle) * attentionFactor
                c[t * rotaryDim + i] = cv
                c[t * rotaryDim + i + half] = cv
                s[t * rotaryDim + i] = sv
                s[t * rotaryDim + i + half] = sv
            }
        }
        return (c, s)
    }
}
