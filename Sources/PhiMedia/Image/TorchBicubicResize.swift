/// torch `F.interpolate(mode="bicubic", align_corners=False)` (no antialias) on float32 planes, as ATen's CPU
/// kernel computes it: Keys cubic with A = -0.75, source index `scale * (dst + 0.5) - 0.5` in float32 with
/// `scale = Float(in) / Float(out)`, taps clamped to the edge, and the sum taken as rows of 4 horizontal taps
/// combined by 4 vertical weights in that order (so the separable form here rounds identically).
enum TorchBicubicResize {
    struct Taps {
        var index: [Int]    // [out * 4], clamped source indices
        var weight: [Float] // [out * 4]
    }

    static func taps(inSize: Int, outSize: Int) -> Taps {
        let a: Float = -0.75
        let scale = Float(inSize) / Float(outSize)
        var index = [Int](repeating: 0, count: outSize * 4)
        var weight = [Float](repeating: 0, count: outSize * 4)
        for i in 0..<outSize {
            let real = scale * (Float(i) + 0.5) - 0.5
            let fl = real.rounded(.down)
            var base = fl.isFinite && abs(fl) < 1e9 ? Int(fl) : 0
            if base > inSize - 1 { base = inSize - 1 }
            let t = min(max(real - Float(base), 0), 1)
            let x1 = t, x2 = 1 - t
            weight[4 * i] = cubic2(x1 + 1, a)
            weight[4 * i + 1] = cubic1(x1, a)
            weight[4 * i + 2] = cubic1(x2, a)
            weight[4 * i + 3] = cubic2(x2 + 1, a)
            for j in 0..<4 { index[4 * i + j] = max(min(base - 1 + j, inSize - 1), 0) }
        }
        return Taps(index: index, weight: weight)
    }

    @inline(__always) static func cubic1(_ x: Float, _ a: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
    @inline(__always) static func cubic2(_ x: Float, _ a: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }

    /// Resizes an interleaved RGB uint8 image, read through `lut` (byte -> normalized float), to three float
    /// planes of `outHeight x outWidth`, written to `out` (3 * outHeight * outWidth floats). Reading through the
    /// table gives the same floats as normalizing the whole image first, without materializing it.
    static func resize(_ src: UnsafeBufferPointer<UInt8>, lut: UnsafeBufferPointer<Float>, inHeight: Int,
                       inWidth: Int, outHeight: Int, outWidth: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let planes = 3
        let tx = taps(inSize: inWidth, outSize: outWidth)
        let ty = taps(inSize: inHeight, outSize: outHeight)
        // Horizontal pass over every source row the vertical taps touch (all of them, for a downscale).
        var rows = [Float](repeating: 0, count: inHeight * outWidth)
        tx.index.withUnsafeBufferPointer { xi in
            tx.weight.withUnsafeBufferPointer { xw in
                ty.index.withUnsafeBufferPointer { yi in
                    ty.weight.withUnsafeBufferPointer { yw in
                        rows.withUnsafeMutableBufferPointer { rows in
                            for p in 0..<planes {
                                for y in 0..<inHeight {
                                    let r = y * inWidth * 3 + p
                                    for x in 0..<outWidth {
                                        var acc = lut[Int(src[r + 3 * xi[4 * x]])] * xw[4 * x]
                                        acc += lut[Int(src[r + 3 * xi[4 * x + 1]])] * xw[4 * x + 1]
                                        acc += lut[Int(src[r + 3 * xi[4 * x + 2]])] * xw[4 * x + 2]
                                        acc += lut[Int(src[r + 3 * xi[4 * x + 3]])] * xw[4 * x + 3]
                                        rows[y * outWidth + x] = acc
                                    }
                                }
                                let outPlane = p * outHeight * outWidth
                                for oy in 0..<outHeight {
                                    let r0 = yi[4 * oy] * outWidth, r1 = yi[4 * oy + 1] * outWidth
                                    let r2 = yi[4 * oy + 2] * outWidth, r3 = yi[4 * oy + 3] * outWidth
                                    let w0 = yw[4 * oy], w1 = yw[4 * oy + 1], w2 = yw[4 * oy + 2], w3 = yw[4 * oy + 3]
                                    let o = outPlane + oy * outWidth
                                    for x in 0..<outWidth {
                                        var acc = rows[r0 + x] * w0
                                        acc += rows[r1 + x] * w1
                                        acc += rows[r2 + x] * w2
                                        acc += rows[r3 + x] * w3
                                        out[o + x] = acc
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
