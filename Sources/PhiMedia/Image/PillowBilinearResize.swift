/// Pillow's `Image.resize(size, Image.BILINEAR)` for RGB uint8, bit for bit (libImaging/Resample.c, Pillow 11.3):
/// an antialiased triangle filter whose support widens by the downscale factor, coefficients computed in double,
/// normalized to sum 1, converted to 22-bit fixed point with rounding, then a horizontal pass (only over the source
/// rows the vertical pass will read) rounding to uint8, then a vertical pass. A pass whose size does not change is
/// skipped, as in Pillow.
enum PillowBilinearResize {
    static let precisionBits = 32 - 8 - 2

    /// One axis: for each output index the first source index, the tap count and `ksize` fixed-point weights.
    struct Coefficients {
        var ksize: Int
        var bounds: [Int]    // [outSize * 2]: xmin, count
        var weights: [Int32] // [outSize * ksize]
    }

    /// `precompute_coeffs` + `normalize_coeffs_8bpc` for box (0, inSize).
    static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterscale = scale < 1.0 ? 1.0 : scale
        let support = 1.0 * filterscale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var bounds = [Int](repeating: 0, count: outSize * 2)
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterscale
        let one = Double(1 << precisionBits)
        for xx in 0..<outSize {
            let center = 0.0 + (Double(xx) + 0.5) * scale
            var ww = 0.0
            // C casts truncate toward zero; the operands are small, so Int(...) cannot trap.
            var xmin = Int(center - support + 0.5)
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            if xmax > ksize { xmax = ksize } // cannot happen (support bounds the window); keeps indexing safe
            if xmax < 0 { xmax = 0 }
            for x in 0..<xmax {
                let w = triangle((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<xmax where ww != 0.0 { k[x] /= ww }
            for x in 0..<ksize {
                let v = x < xmax ? k[x] : 0.0
                weights[xx * ksize + x] = Int32(v < 0 ? -0.5 + v * one : 0.5 + v * one)
            }
            bounds[2 * xx] = xmin
            bounds[2 * xx + 1] = xmax
        }
        return Coefficients(ksize: ksize, bounds: bounds, weights: weights)
    }

    @inline(__always)
    static func triangle(_ x: Double) -> Double {
        let a = x < 0.0 ? -x : x
        return a < 1.0 ? 1.0 - a : 0.0
    }

    @inline(__always)
    static func clip8(_ v: Int32) -> UInt8 {
        let s = v >> Int32(precisionBits)
        return s <= 0 ? 0 : (s >= 255 ? 255 : UInt8(truncatingIfNeeded: s))
    }

    /// Resizes `src` (RGB, srcWidth x srcHeight) to outWidth x outHeight.
    static func resize(_ src: [UInt8], width srcWidth: Int, height srcHeight: Int,
                       toWidth outWidth: Int, height outHeight: Int) -> [UInt8] {
        guard outWidth > 0, outHeight > 0, srcWidth > 0, srcHeight > 0 else { return [] }
        let needHorizontal = outWidth != srcWidth
        let needVertical = outHeight != srcHeight
        if !needHorizontal && !needVertical { return src }
        let horiz = coefficients(inSize: srcWidth, outSize: outWidth)
        var vert = coefficients(inSize: srcHeight, outSize: outHeight)

        var current = src
        var currentHeight = srcHeight
        if needHorizontal {
            // Only the source rows the vertical pass reads.
            let first = vert.bounds[0]
            let last = vert.bounds[outHeight * 2 - 2] + vert.bounds[outHeight * 2 - 1]
            for i in 0..<outHeight { vert.bounds[2 * i] -= first }
            current = horizontalPass(src, srcWidth: srcWidth, firstRow: first, rows: last - first,
                                     outWidth: outWidth, coefficients: horiz)
            currentHeight = last - first
        }
        if needVertical {
            current = verticalPass(current, width: outWidth, height: currentHeight, outHeight: outHeight,
                                   coefficients: vert)
        }
        return current
    }

    static func horizontalPass(_ src: [UInt8], srcWidth: Int, firstRow: Int, rows: Int, outWidth: Int,
                               coefficients c: Coefficients) -> [UInt8] {
        let half = Int32(1 << (precisionBits - 1))
        let ksize = c.ksize
        return [UInt8](unsafeUninitializedCapacity: rows * outWidth * 3) { out, initialized in
            src.withUnsafeBufferPointer { inp in
                c.weights.withUnsafeBufferPointer { kk in
                    c.bounds.withUnsafeBufferPointer { bounds in
                        for y in 0..<rows {
                            let inRow = (y + firstRow) * srcWidth * 3
                            let outRow = y * outWidth * 3
                            for xx in 0..<outWidth {
                                let xmin = bounds[2 * xx], count = bounds[2 * xx + 1]
                                let kbase = xx * ksize
                                var s0 = half, s1 = half, s2 = half
                                var p = inRow + xmin * 3
                                for x in 0..<count {
                                    let w = kk[kbase + x]
                                    s0 &+= Int32(inp[p]) &* w
                                    s1 &+= Int32(inp[p + 1]) &* w
                                    s2 &+= Int32(inp[p + 2]) &* w
                                    p += 3
                                }
                                out[outRow + 3 * xx] = clip8(s0)
                                out[outRow + 3 * xx + 1] = clip8(s1)
                                out[outRow + 3 * xx + 2] = clip8(s2)
                            }
                        }
                    }
                }
            }
            initialized = rows * outWidth * 3
        }
    }

    static func verticalPass(_ src: [UInt8], width: Int, height: Int, outHeight: Int,
                             coefficients c: Coefficients) -> [UInt8] {
        let half = Int32(1 << (precisionBits - 1))
        let ksize = c.ksize
        let rowBytes = width * 3
        return [UInt8](unsafeUninitializedCapacity: outHeight * rowBytes) { out, initialized in
            src.withUnsafeBufferPointer { inp in
                c.weights.withUnsafeBufferPointer { kk in
                    c.bounds.withUnsafeBufferPointer { bounds in
                        // Accumulate whole rows at a time: same sums as Pillow's per-pixel loop, cache friendly.
                        var acc = [Int32](repeating: 0, count: rowBytes)
                        acc.withUnsafeMutableBufferPointer { acc in
                            for yy in 0..<outHeight {
                                let ymin = bounds[2 * yy], count = bounds[2 * yy + 1]
                                for i in 0..<rowBytes { acc[i] = half }
                                for y in 0..<count {
                                    let w = kk[yy * ksize + y]
                                    let base = (ymin + y) * rowBytes
                                    for i in 0..<rowBytes { acc[i] &+= Int32(inp[base + i]) &* w }
                                }
                                let outBase = yy * rowBytes
                                for i in 0..<rowBytes { out[outBase + i] = clip8(acc[i]) }
                            }
                        }
                    }
                }
            }
            initialized = outHeight * rowBytes
        }
    }
}
