/// Phi-4-multimodal image preprocessing, exactly as the original hub `processing_phi4mm.py` does it
/// (reference §4): crop grid by dynamic HD, Pillow bilinear (antialiased) resize, white padding right/bottom,
/// normalization to [-1, 1], a torch-bicubic 448x448 global view, row-major 448x448 crops and 14-pixel patch masks.
public struct Phi4MMImageProcessor: Sendable {
    public static let cropSize = 448
    public static let patchSize = 14
    public static let maskSize = 32 // cropSize / patchSize

    /// Maximum number of HD crops (`dynamic_hd` in the checkpoint's preprocessor config; 36 for Phi-4-MM).
    /// `plan` and `process` accept 1...256.
    public var dynamicHD: Int = 36

    public init(dynamicHD: Int = 36) {
        self.dynamicHD = dynamicHD
    }

    /// Grid, resize target, padding, mask and token count for a `width x height` image.
    public func plan(width: Int, height: Int) throws -> Phi4MMImagePlan {
        let s = Self.cropSize, p = Self.patchSize, m = Self.maskSize
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImageError.invalidDimensions(width: width, height: height, byteCount: 0)
        }
        // 256 crops are already 620 MB of floats; the model uses 36.
        guard dynamicHD >= 1, dynamicHD <= 256 else {
            throw ImageError.invalidParameter("dynamicHD must be in 1...256, got \(dynamicHD)")
        }
        let (cols, rows) = Phi4MMImageGrid.grid(width: width, height: height, maxNum: dynamicHD, cropSize: s)
        let tw = s * cols, th = s * rows
        let rw = Double(tw) / Double(width), rh = Double(th) / Double(height)
        var newW = tw, newH = th, padW = 0, padH = 0
        // Python int() truncates; the products are bounded by the target size, so the conversions cannot trap.
        if rw < rh {
            newH = Int(Double(height) * rw)
            padH = th - newH
        } else {
            newW = Int(Double(width) * rh)
            padW = tw - newW
        }
        if min(newH, th) < 10 || min(newW, tw) < 10 || newW > tw || newH > th {
            throw ImageError.extremeAspectRatio(width: width, height: height, resizedWidth: newW,
                                                resizedHeight: newH)
        }
        let zc = padW >= p ? padW / p : 0
        let zr = padH >= p ? padH / p : 0
        // Even-index valid patch columns / rows of the whole mask (crops are 32 wide, an even number).
        let validColumns = (m * cols - zc + 1) / 2
        let validRows = (m * rows - zr + 1) / 2
        let tokens = 256 + 16 + 1 + validRows * validColumns + validRows
        return Phi4MMImagePlan(columns: cols, rows: rows, resizedWidth: newW, resizedHeight: newH, padWidth: padW,
                               padHeight: padH, maskedColumns: zc, maskedRows: zr, validRows: validRows,
                               validColumns: validColumns, tokenCount: tokens)
    }

    /// The number of image tokens a `width x height` image expands to.
    public func tokenCount(width: Int, height: Int) throws -> Int {
        try plan(width: width, height: height).tokenCount
    }

    /// The padded HD image as uint8 RGB (`plan.targetWidth x plan.targetHeight`): resized, then white right/bottom.
    func hdImage(_ image: RGBImage, plan: Phi4MMImagePlan) -> [UInt8] {
        let resized = PillowBilinearResize.resize(image.pixels, width: image.width, height: image.height,
                                                  toWidth: plan.resizedWidth, height: plan.resizedHeight)
        let tw = plan.targetWidth, th = plan.targetHeight
        if plan.resizedWidth == tw && plan.resizedHeight == th { return resized }
        var hd = [UInt8](repeating: 255, count: tw * th * 3)
        let rowBytes = plan.resizedWidth * 3
        hd.withUnsafeMutableBufferPointer { dst in
            resized.withUnsafeBufferPointer { src in
                for y in 0..<plan.resizedHeight {
                    guard let to = dst.baseAddress, let from = src.baseAddress else { return }
                    (to + y * tw * 3).update(from: from + y * rowBytes, count: rowBytes)
                }
            }
        }
        return hd
    }

    /// x/255 then (x - 0.5)/0.5 in float32, as torchvision's ToTensor + Normalize(0.5, 0.5) compute it.
    static let normalizeTable: [Float] = (0..<256).map { ((Float($0) / 255) - 0.5) / 0.5 }

    public func process(_ image: RGBImage) throws -> Phi4MMImageInput {
        let plan = try plan(width: image.width, height: image.height)
        let hd = hdImage(image, plan: plan)
        let s = Self.cropSize, m = Self.maskSize
        let cols = plan.columns, rows = plan.rows
        let tw = plan.targetWidth, th = plan.targetHeight
        let cropCount = 1 + cols * rows
        let cropFloats = 3 * s * s
        let (total, overflow) = cropCount.multipliedReportingOverflow(by: cropFloats)
        guard !overflow else { throw ImageError.invalidParameter("too many crops: \(cropCount)") }

        let pixels = [Float](unsafeUninitializedCapacity: total) { out, initialized in
            Self.normalizeTable.withUnsafeBufferPointer { lut in
                hd.withUnsafeBufferPointer { hd in
                    // Global view: bicubic of the normalized HD image down to 448x448.
                    TorchBicubicResize.resize(hd, lut: lut, inHeight: th, inWidth: tw, outHeight: s, outWidth: s,
                                              into: UnsafeMutableBufferPointer(rebasing: out[0..<cropFloats]))
                    // Crops, row-major, each [3, 448, 448].
                    for r in 0..<rows {
                        for c in 0..<cols {
                            let base = (1 + r * cols + c) * cropFloats
                            for y in 0..<s {
                                let src = ((r * s + y) * tw + c * s) * 3
                                let d0 = base + y * s, d1 = d0 + s * s, d2 = d1 + s * s
                                for x in 0..<s {
                                    out[d0 + x] = lut[Int(hd[src + 3 * x])]
                                    out[d1 + x] = lut[Int(hd[src + 3 * x + 1])]
                                    out[d2 + x] = lut[Int(hd[src + 3 * x + 2])]
                                }
                            }
                        }
                    }
                }
            }
            initialized = total
        }

        var mask = [UInt8](repeating: 1, count: cropCount * m * m)
        let validMaskCols = m * cols - plan.maskedColumns, validMaskRows = m * rows - plan.maskedRows
        for r in 0..<rows {
            for c in 0..<cols {
                let base = (1 + r * cols + c) * m * m
                for y in 0..<m {
                    for x in 0..<m where r * m + y >= validMaskRows || c * m + x >= validMaskCols {
                        mask[base + y * m + x] = 0
                    }
                }
            }
        }
        return Phi4MMImageInput(columns: cols, rows: rows, pixelValues: pixels, patchMask: mask,
                                validRows: plan.validRows, validColumns: plan.validColumns,
                                tokenCount: plan.tokenCount, imageSize: (th, tw))
    }
}
