import PhiKernels
@testable import PhiNN
import PhiTensor
import PhiTestSupport
import XCTest

/// The decoder's parts check one another when they are put together (issue 10): sizes that came from a config
/// cannot reach a kernel or an allocation unless the bound matrices agree with them.
final class DecoderValidationTests: XCTestCase {
    let H = TinyDecoder.hidden, D = TinyDecoder.headDim, heads = TinyDecoder.heads, kv = TinyDecoder.kvHeads

    func matrix(_ rows: Int, _ cols: Int) throws -> Linear {
        var rng = SplitMix64(seed: 1)
        return try TinyDecoder.matrix(&rng, rows, cols)
    }

    func assertInvalid(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "'\(error)' does not mention '\(fragment)'", file: file, line: line)
        }
    }

    func testAttentionChecksHeadsAgainstItsMatrices() throws {
        let qkv = try matrix((heads + 2 * kv) * D, H), o = try matrix(H, heads * D)
        let a = try Attention(projection: .fused(qkv), output: o, heads: heads, kvHeads: kv, headDim: D)
        XCTAssertEqual(a.qkvWidth, (heads + 2 * kv) * D)
        XCTAssertEqual(a.attentionWidth, heads * D)
        // Finding 1's numbers: the products wrap to the real widths; the checked arithmetic refuses them.
        assertInvalid("overflows") {
            _ = try Attention(projection: .fused(qkv), output: o, heads: 456_724_697_139_573, kvHeads: 152_241_565_713_191,
                              headDim: 33_849_730_896_608)
        }
        assertInvalid("qkv_proj") { _ = try Attention(projection: .fused(qkv), output: o, heads: heads, kvHeads: kv, headDim: 2 * D) }
        assertInvalid("kv heads") { _ = try Attention(projection: .fused(qkv), output: o, heads: heads, kvHeads: 3, headDim: D) }
        assertInvalid("o_proj") {
            _ = try Attention(projection: .fused(qkv), output: try matrix(H, 2 * D), heads: heads, kvHeads: kv, headDim: D)
        }
        assertInvalid("k_proj") {
            _ = try Attention(projection: .separate(q: try matrix(heads * D, H), k: try matrix(D, H), v: try matrix(kv * D, H)),
                              output: o, heads: heads, kvHeads: kv, headDim: D)
        }
        assertInvalid("bias") {
            _ = try Attention(projection: .fused(qkv), output: o, heads: heads, kvHeads: kv, headDim: D, qkvBias: Bias([1, 2]))
        }
    }

    /// The tiny decoder rebuilt with one part changed.
    func rebuild(_ d: TransformerDecoder, rotary: RotaryEmbedding? = nil, lmHead: Linear? = nil,
                 contextLength: Int? = nil) throws -> TransformerDecoder {
        try TransformerDecoder(embedding: d.embedding, blocks: d.blocks, finalNorm: d.finalNorm, lmHead: lmHead ?? d.lmHead,
                               rotary: rotary ?? d.rotary, contextLength: contextLength ?? d.contextLength, parallel: d.parallel)
    }

    func testDecoderChecksRotaryHeadAndContext() throws {
        let d = try TinyDecoder.make(seed: 3, longRoPE: false)
        XCTAssertNoThrow(try rebuild(d))
        assertInvalid("rotary") { _ = try rebuild(d, rotary: RotaryEmbedding(kind: .standard, rotaryDim: 3, theta: 1e4, attentionFactor: 1)) }
        assertInvalid("rotary") { _ = try rebuild(d, rotary: RotaryEmbedding(kind: .standard, rotaryDim: 2 * D, theta: 1e4, attentionFactor: 1)) }
        assertInvalid("rotary") {
            // LongRoPE factor lists shorter than rotaryDim / 2 leave the tables short.
            _ = try rebuild(d, rotary: RotaryEmbedding(kind: .longRoPE(shortFactors: [1], longFactors: [1], originalMaxPositionEmbeddings: 8),
                                                       rotaryDim: D, theta: 1e4, attentionFactor: 1))
        }
        assertInvalid("output head") { _ = try rebuild(d, lmHead: try matrix(TinyDecoder.vocab + 1, H)) }
        assertInvalid("KV cache") { _ = try rebuild(d, contextLength: Int.max / 4) }
        assertInvalid("context length") { _ = try rebuild(d, contextLength: 0) }
    }

    func testCacheGrowthReportsOverflow() throws {
        let cache = KVCache(layers: 2, kvHeads: kv, headDim: D, maxLength: Int.max)
        XCTAssertThrowsError(try cache.reserve(Int.max / 2)) { error in
            XCTAssertTrue("\(error)".contains("KV cache"), "\(error)")
        }
        XCTAssertEqual(cache.count, 0)
        try cache.reserve(1000)
        XCTAssertGreaterThanOrEqual(cache.capacity, 1000)
    }
}
