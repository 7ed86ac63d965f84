import PhiKernels
import PhiNN
import PhiTensor
import PhiWeights

/// The SigLIP vision tower of Phi-4-multimodal (reference §5): patch embedding, bucketized position
/// embedding, pre-LN encoder layers with **bidirectional** attention in which padded patches are excluded
/// as keys. Features are the output of layer `config.layersToRun` (hidden_states[-2]); later layers,
/// post_layernorm and the pooling head are stored in the checkpoint but never computed.
public final class SiglipVisionEncoder: @unchecked Sendable {
    public struct Layer: @unchecked Sendable {
        let norm1: LayerNorm, q: BiasedLinear, k: BiasedLinear, v: BiasedLinear, out: BiasedLinear
        let norm2: LayerNorm, fc1: BiasedLinear, fc2: BiasedLinear
    }

    public let config: SiglipConfig
    let patchEmbedding: BiasedLinear          // Conv2d 3→H, k=s=patch, as a [H, 3·p·p] matrix
    let positionEmbedding: FloatBuffer         // [patchesPerSide², H]
    let layers: [Layer]
    let parallel: Parallel
    /// bf16 checkpoints: attention matmuls round their inputs to bf16 as the reference does.
    let bf16: Bool

    /// Binds `prefix` + SigLIP names (…embeddings.*, …encoder.layers.{i}.*, …post_layernorm.*, …head.*).
    public init(config c: SiglipConfig, weights w: TensorSource, prefix: String, parallel: Parallel) throws {
        config = c
        self.parallel = parallel
        let H = c.hiddenSize, I = c.intermediateSize, p = c.patchSize, P = c.patchesPerSide * c.patchesPerSide
        func t(_ n: String, _ s: [Int]) throws -> Tensor { try w.tensor(prefix + n, shape: s) }
        func lin(_ n: String, _ out: Int, _ inp: Int) throws -> BiasedLinear {
            try BiasedLinear(weight: try t("\(n).weight", [out, inp]), bias: try t("\(n).bias", [out]), name: prefix + n)
        }
        func ln(_ n: String) throws -> LayerNorm {
            LayerNorm(weight: try t("\(n).weight", [H]), bias: try t("\(n).bias", [H]), eps: c.layerNormEps)
        }
        let conv = try t("embeddings.patch_embedding.weight", [H, 3, p, p])
        patchEmbedding = try BiasedLinear(weight: Tensor(dtype: conv.dtype, shape: [H, 3 * p * p], data: conv.data, owner: conv.owner),
                                          bias: try t("embeddings.patch_embedding.bias", [H]), name: prefix + "embeddings.patch_embedding")
        positionEmbedding = FloatBuffer(try t("embeddings.position_embedding.weight", [P, H]).toFloatArray())
        bf16 = conv.dtype == .bf16
        var layers: [Layer] = []
        for i in 0..<c.numHiddenLayers {
            let L = "encoder.layers.\(i)."
            let layer = Layer(norm1: try ln(L + "layer_norm1"), q: try lin(L + "self_attn.q_proj", H, H),
                              k: try lin(L + "self_attn.k_proj", H, H), v: try lin(L + "self_attn.v_proj", H, H),
                              out: try lin(L + "self_attn.out_proj", H, H), norm2: try ln(L + "layer_norm2"),
                              fc1: try lin(L + "mlp.fc1", I, H), fc2: try lin(L + "mlp.fc2", H, I))
            if i < c.layersToRun { layers.append(layer) }  // later layers are bound (checked) but never run
        }
        self.layers = layers
        // Stored but unused by Phi-4-multimodal: post_layernorm and the attention-pooling head (shape-checked).
        let unused: [(String, [Int])] = [
            ("post_layernorm.weight", [H]), ("post_layernorm.bias", [H]), ("head.probe", [1, 1, H]),
            ("head.attention.in_proj_weight", [3 * H, H]), ("head.attention.in_proj_bias", [3 * H]),
            ("head.attention.out_proj.weight", [H, H]), ("head.attention.out_proj.bias", [H]),
            ("head.layernorm.weight", [H]), ("head.layernorm.bias", [H]),
            ("head.mlp.fc1.weight", [I, H]), ("head.mlp.fc1.bias", [I]), ("head.mlp.fc2.weight", [H, I]), ("head.mlp.fc2.bias", [H]),
        ]
        for (n, shape) in unused where w.contains(prefix + n) { _ = try w.tensor(prefix + n, shape: shape) }
    }

    /// Position bucket of each of the n valid rows (or columns) of a crop, as the original computes it:
    /// fractional coordinates torch.linspace(0, 1 − 1/n, n) in float32, bucketized against k/32 (right=True).
    /// (transformers' native code uses k·(1/n) instead; the two differ for n = 20 and 24.)
    public static func positionBuckets(valid n: Int, side: Int) -> [Int] {
        guard n > 0 else { return [] }
        let end = Float(1.0 - 1.0 / Double(n))
        let step: Float = n > 1 ? end / Float(n - 1) : 0
        let half = n / 2
        return (0..<n).map { i in
            let f: Float = i < half ? 0 + step * Float(i) : end - step * Float(n - i - 1)
            // count of boundaries k/side (k = 1 … side−1) that are ≤ f
            var b = 0
            while b < side - 1 && Float(b + 1) / Float(side) <= f { b += 1 }
            return b
        }
    }

    /// Features of one crop: pixels [3, S, S] (normalized), mask [side, side] (1 = real patch) →
    /// out [side², H] (row-major patches).
    public func encode(pixels: UnsafePointer<Float>, mask: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
        let c = config, H = c.hiddenSize, p = c.patchSize, side = c.patchesPerSide, T = side * side, S = c.imageSize
        let K = 3 * p * p, I = c.intermediateSize
        let x = out                                                          // residual stream [T, H]
        let patches = UnsafeMutablePointer<Float>.allocate(capacity: T * K)
        let h = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        let q = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        let k = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: T * I)
        defer { [patches, h, q, k, v, a, m].forEach { $0.deallocate() } }

        // Patch embedding as a matmul over im2col rows ordered (channel, ky, kx) like the conv weight.
        for py in 0..<side {
            for px in 0..<side {
                let row = patches + (py * side + px) * K
                for ch in 0..<3 {
                    for ky in 0..<p {
                        (row + (ch * p + ky) * p).update(from: pixels + (ch * S + py * p + ky) * S + px * p, count: p)
                    }
                }
            }
        }
        patchEmbedding(patches, rows: T, into: x, parallel: parallel)

        // Position ids from the valid extent (mask column 0 / row 0); padded patches use position 0.
        var nh = 0, nw = 0
        for r in 0..<side where mask[r * side] != 0 { nh += 1 }
        for col in 0..<side where mask[col] != 0 { nw += 1 }
        let br = Self.positionBuckets(valid: nh, side: side), bc = Self.positionBuckets(valid: nw, side: side)
        var validKeys: [Int] = []
        for r in 0..<side {
            for col in 0..<side {
                let valid = mask[r * side + col] != 0
                let pos = valid && r < nh && col < nw ? br[r] * side + bc[col] : 0
                let e = positionEmbedding.pointer + pos * H, xr = x + (r * side + col) * H
                for i in 0..<H { xr[i] += e[i] }
                if valid { validKeys.append(r * side + col) }
            }
        }
        let allValid = validKeys.count == T
        let nk = validKeys.count

        let prof = Profiler.shared
        for layer in layers {
            prof.measure("vit.norm") { layer.norm1(x, rows: T, into: h, parallel: parallel) }
            prof.measure("vit.qkv") {
                layer.q(h, rows: T, into: q, parallel: parallel)
                layer.k(h, rows: T, into: k, parallel: parallel)
                layer.v(h, rows: T, into: v, parallel: parallel)
            }
            if !allValid {
                // Padded patches are not keys: compact the valid keys/values to the front.
                for (j, src) in validKeys.enumerated() where j != src {
                    (k + j * H).update(from: k + src * H, count: H)
                    (v + j * H).update(from: v + src * H, count: H)
                }
            }
            prof.measure("vit.attention") {
                Kernels.fullAttention(q: q, ldq: H, k: k, ldk: H, v: v, ldv: H, queries: T, keys: max(nk, 1),
                                      heads: c.numAttentionHeads, headDim: c.headDim,
                                      scale: 1 / Float(c.headDim).squareRoot(), bf16: bf16, out: a, ldo: H, parallel: parallel)
            }
            prof.measure("vit.out") { layer.out(a, rows: T, into: h, parallel: parallel) }
            Kernels.add(h, into: x, count: T * H)
            prof.measure("vit.norm") { layer.norm2(x, rows: T, into: h, parallel: parallel) }
            prof.measure("vit.fc1") { layer.fc1(h, rows: T, into: m, parallel: parallel) }
            prof.measure("vit.gelu") { Kernels.activate(.geluTanh, m, count: T * I, parallel: parallel) }
            prof.measure("vit.fc2") { layer.fc2(m, rows: T, into: h, parallel: parallel) }
            Kernels.add(h, into: x, count: T * H)
        }
    }
}
