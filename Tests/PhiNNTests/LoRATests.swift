import PhiKernels
@testable import PhiNN
import PhiTensor
import PhiTestSupport
import XCTest

final class LoRATests: XCTestCase {
    /// y += scale · B·(A·x), against the product written out.
    func testAddMatchesTheDefinition() throws {
        var rng = SplitMix64(seed: 41)
        let rows = 3, inF = 10, outF = 7, r = 2
        let a = rng.floats(r * inF), b = rng.floats(outF * r), x = rng.floats(rows * inF), y0 = rng.floats(rows * outF)
        let lora = try LoRA(a: try Linear(weight: TinyDecoder.tensor(a, [r, inF])),
                            b: try Linear(weight: TinyDecoder.tensor(b, [outF, r])), scale: 0.5)
        var y = y0
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in lora.add(xb.baseAddress!, rows: rows, into: yb.baseAddress!, parallel: Parallel(threads: 1)) }
        }
        var want = y0
        for t in 0..<rows {
            for o in 0..<outF {
                var acc: Float = 0
                for k in 0..<r {
                    var ax: Float = 0
                    for i in 0..<inF { ax += a[k * inF + i] * x[t * inF + i] }
                    acc += b[o * r + k] * ax
                }
                want[t * outF + o] += 0.5 * acc
            }
        }
        XCTAssertLessThanOrEqual(Difference(y, want).maxAbs, 1e-5)
        XCTAssertThrowsError(try LoRA(a: try Linear(weight: TinyDecoder.tensor(a, [r, inF])),
                                      b: try Linear(weight: TinyDecoder.tensor(rng.floats(outF * 3), [outF, 3])), scale: 1))
    }

    /// An adapter on the fused qkv projection equals the model with B·A merged into that weight; without the
    /// conditioning the base model is unchanged.
    func testAdapterEqualsMergedWeights() throws {
        let base = try TinyDecoder.make(seed: 42, longRoPE: false)
        var rng = SplitMix64(seed: 43)
        let H = TinyDecoder.hidden, rows = (TinyDecoder.heads + 2 * TinyDecoder.kvHeads) * TinyDecoder.headDim, r = 2
        let a = rng.floats(r * H, scale: 0.3), b = rng.floats(rows * r, scale: 0.3), scale: Float = 0.75
        let lora = try LoRA(a: try Linear(weight: TinyDecoder.tensor(a, [r, H])),
                            b: try Linear(weight: TinyDecoder.tensor(b, [rows, r])), scale: scale)
        let adapter = LoRAAdapter(name: "test", layers: [LayerLoRA(qkv: lora), LayerLoRA()])
        let conditioning = try Conditioning(adapter: adapter, positions: [], rows: [], width: H)
        // The same decoder with layer 0's qkv weight replaced by W + scale·B·A.
        guard case .fused(let w) = base.blocks[0].attention.projection, case .dense(let wt, _) = w.storage else {
            return XCTFail("expected a dense fused qkv")
        }
        var merged = wt.toFloatArray()
        for o in 0..<rows { for i in 0..<H { for k in 0..<r { merged[o * H + i] += scale * b[o * r + k] * a[k * H + i] } } }
        let att = base.blocks[0].attention
        let block0 = DecoderBlock(inputNorm: base.blocks[0].inputNorm,
                                  attention: try Attention(projection: .fused(try Linear(weight: TinyDecoder.tensor(merged, [rows, H]))),
                                                       output: att.output, heads: att.heads, kvHeads: att.kvHeads, headDim: att.headDim),
                                  postAttentionNorm: base.blocks[0].postAttentionNorm, feedForward: base.blocks[0].feedForward)
        let mergedModel = try TransformerDecoder(embedding: base.embedding, blocks: [block0, base.blocks[1]], finalNorm: base.finalNorm,
                                             lmHead: base.lmHead, rotary: base.rotary, contextLength: base.contextLength,
                                             parallel: base.parallel)
        let ids = TinyDecoder.tokens(7, seed: 6)
        let withAdapter = try base.forward(ids, cache: base.makeCache(), logits: .all, tap: nil, conditioning: conditioning)
        let want = try mergedModel.forward(ids, cache: mergedModel.makeCache(), logits: .all, tap: nil)
        XCTAssertLessThanOrEqual(Difference(withAdapter, want).maxAbs, Tolerance.reordering)
        let plain = try base.forward(ids, cache: base.makeCache(), logits: .all, tap: nil)
        XCTAssertGreaterThan(Difference(plain, withAdapter).maxAbs, 1e-3, "the adapter changes the output")
    }
}
