import PhiKernels
@testable import PhiNN
import PhiTensor
import PhiTestSupport

/// Small random decoders built from PhiNN's parts alone (no checkpoint), for tests of the forward pass's
/// mechanics: caching, chunking, LongRoPE switching, adapters.
struct TinyDecoder {
    static let vocab = 40, hidden = 16, heads = 4, kvHeads = 2, headDim = 4, inter = 24, layers = 2

    static func tensor(_ values: [Float], _ shape: [Int]) -> Tensor { FloatBuffer(values).tensor(shape: shape) }

    static func matrix(_ rng: inout SplitMix64, _ rows: Int, _ cols: Int, scale: Float = 0.3) throws -> Linear {
        try Linear(weight: tensor(rng.floats(rows * cols, scale: scale), [rows, cols]))
    }

    static func norm(_ rng: inout SplitMix64) -> Norm {
        .rms(RMSNorm(weight: tensor((0..<hidden).map { _ in 1 + rng.float(scale: 0.1) }, [hidden]), eps: 1e-5))
    }

    /// `longRoPE`: original context 8, so sequences cross it quickly.
    static func make(seed: UInt64, longRoPE: Bool = true, contextLength: Int = 32) throws -> TransformerDecoder {
        var rng = SplitMix64(seed: seed)
        let H = hidden, D = headDim
        let embedding = Embedding(table: tensor(rng.floats(vocab * H, scale: 0.5), [vocab, H]))
        var blocks: [DecoderBlock] = []
        for _ in 0..<layers {
            let attention = try Attention(projection: .fused(try matrix(&rng, (heads + 2 * kvHeads) * D, H)),
                                      output: try matrix(&rng, H, heads * D), heads: heads, kvHeads: kvHeads, headDim: D)
            let ff = FeedForward(projection: .fused(gateUp: try matrix(&rng, 2 * inter, H)), down: try matrix(&rng, H, inter))
            blocks.append(DecoderBlock(inputNorm: norm(&rng), attention: attention, postAttentionNorm: norm(&rng), feedForward: ff))
        }
        let kind: RotaryEmbedding.Kind = longRoPE
            ? .longRoPE(shortFactors: [1, 1.2], longFactors: [1.5, 4], originalMaxPositionEmbeddings: 8) : .standard
        let rotary = RotaryEmbedding(kind: kind, rotaryDim: D, theta: 10000, attentionFactor: longRoPE ? 1.2 : 1)
        return try TransformerDecoder(embedding: embedding, blocks: blocks, finalNorm: norm(&rng),
                                  lmHead: try matrix(&rng, vocab, H), rotary: rotary, contextLength: contextLength,
                                  parallel: Parallel(threads: 2))
    }

    static func tokens(_ n: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in rng.int(vocab) }
    }
}

/// Logits of the last position of a fresh, cache-free pass over `ids`: the "whole sequence" truth.
func lastLogits(_ d: TransformerDecoder, _ ids: [Int], conditioning: Conditioning? = nil) throws -> [Float] {
    try d.forward(ids, cache: d.makeCache(), logits: .last, tap: nil, conditioning: conditioning)
}
