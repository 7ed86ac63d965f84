import PhiKernels
import PhiMedia
import PhiNN
import PhiTensor
import PhiWeights

/// Image features for the language model (reference §5): SigLIP per crop → 2×2 average pool → HD
/// arrangement with the learned `sub_GN` / `glb_GN` separators (sub grid first, "sub_glb") → projector
/// Linear → exact GELU → Linear.
public final class Phi4MMImageEmbedder: @unchecked Sendable {
    public let encoder: SiglipVisionEncoder
    let subSeparator: FloatBuffer     // sub_GN  [H]
    let globalSeparator: FloatBuffer  // glb_GN  [H]
    let projector: GELUProjector      // H → LM hidden → LM hidden
    let parallel: Parallel
    public var outputSize: Int { projector.outFeatures }

    public init(config: SiglipConfig, lmHidden: Int, weights w: TensorSource, parallel: Parallel) throws {
        let p = "model.embed_tokens_extend.image_embed."
        let H = config.hiddenSize
        encoder = try SiglipVisionEncoder(config: config, weights: w, prefix: p + "img_processor.", parallel: parallel)
        subSeparator = FloatBuffer(try w.tensor(p + "sub_img_feature_extensor", shape: [1, 1, 1, H]).toFloatArray())
        globalSeparator = FloatBuffer(try w.tensor(p + "global_img_feature_extensor", shape: [1, 1, H]).toFloatArray())
        projector = try GELUProjector(
            up: try BiasedLinear(weight: try w.tensor(p + "img_projection_up.weight", shape: [lmHidden, H]),
                                 bias: try w.tensor(p + "img_projection_up.bias", shape: [lmHidden]), name: p + "img_projection_up"),
            down: try BiasedLinear(weight: try w.tensor(p + "img_projection_down.weight", shape: [lmHidden, lmHidden]),
                                   bias: try w.tensor(p + "img_projection_down.bias", shape: [lmHidden]), name: p + "img_projection_down"))
        self.parallel = parallel
    }

    /// Pooled SigLIP features of every crop: [crops, (side/2)², H]. `progress` sees (done, total) crops.
    public func cropFeatures(_ image: Phi4MMImageInput, progress: ((Int, Int) -> Void)? = nil) throws -> [Float] {
        let c = encoder.config, H = c.hiddenSize, side = c.patchesPerSide, S = c.imageSize, half = side / 2
        let n = image.cropCount
        guard image.columns > 0, image.rows > 0, image.pixelValues.count == n * 3 * S * S, image.patchMask.count == n * side * side,
              image.validRows >= 0, image.validRows <= image.rows * half,
              image.validColumns >= 0, image.validColumns <= image.columns * half else {
            throw ModelError.unsupported("image input has inconsistent crop data (\(image.columns)×\(image.rows) grid)")
        }
        var pooled = [Float](repeating: 0, count: n * half * half * H)
        let full = UnsafeMutablePointer<Float>.allocate(capacity: side * side * H)
        defer { full.deallocate() }
        try image.pixelValues.withUnsafeBufferPointer { px in
            try image.patchMask.withUnsafeBufferPointer { mk in
                guard let pxb = px.baseAddress, let mkb = mk.baseAddress else { throw ModelError.unsupported("empty image input") }
                for crop in 0..<n {
                    encoder.encode(pixels: pxb + crop * 3 * S * S, mask: mkb + crop * side * side, into: full)
                    let base = crop * half * half * H
                    for y in 0..<half {
                        for x in 0..<half {
                            let o = base + (y * half + x) * H
                            let a = full + ((2 * y) * side + 2 * x) * H, b = a + H, cc = a + side * H, d = cc + H
                            for i in 0..<H { pooled[o + i] = (a[i] + b[i] + cc[i] + d[i]) * 0.25 }
                        }
                    }
                    progress?(crop + 1, n)
                }
            }
        }
        return pooled
    }

    /// The projected features of one image: [image.tokenCount, LM hidden].
    public func embed(_ image: Phi4MMImageInput, progress: ((Int, Int) -> Void)? = nil) throws -> [Float] {
        let H = encoder.config.hiddenSize, half = encoder.config.patchesPerSide / 2
        let R = image.validRows, C = image.validColumns
        // The processor's count (the one source) must describe this layout: R·(C+1) sub features with row
        // separators, 1 global separator, half·(half+1) global features.
        let count = image.tokenCount
        guard count == R * (C + 1) + 1 + half * (half + 1) else {
            throw ModelError.unsupported("image input of \(count) tokens does not fit the vision tower's \(half)×\(half) pooled grid")
        }
        let pooled = try cropFeatures(image, progress: progress)
        var seq: [Float] = []
        seq.reserveCapacity(count * H)
        func put(_ src: UnsafePointer<Float>) { seq.append(contentsOf: UnsafeBufferPointer(start: src, count: H)) }
        pooled.withUnsafeBufferPointer { pb in
            guard let p = pb.baseAddress else { return }
            // Sub grid [16·rows, 16·columns] (crops row-major, then pooled patches row-major), cut to R × C.
            for y in 0..<R {
                let cropRow = y / half, py = y % half
                for x in 0..<C {
                    let crop = 1 + cropRow * image.columns + x / half, px = x % half
                    put(p + ((crop * half + py) * half + px) * H)
                }
                put(subSeparator.pointer)
            }
            put(globalSeparator.pointer)
            for y in 0..<half {
                for x in 0..<half { put(p + (y * half + x) * H) }
                put(subSeparator.pointer)
            }
        }
        return projector(seq, rows: count, parallel: parallel)
    }
}
