#if canImport(ImageIO)
import CoreGraphics
import Foundation
import ImageIO

extension ImageDecoder {
    /// Apple platforms: ImageIO reads the header (limit check before any pixel work), decodes, and the image is
    /// drawn into an 8-bit bitmap in its own color space (gray images into a gray bitmap), so no color management
    /// runs, like Pillow. Straight alpha is re-tagged as "skip" first so colors are copied, not composited.
    /// Unlike the Linux path this is not bit-exact with libjpeg-turbo, and 16-bit or premultiplied sources are
    /// composited by Core Graphics. Untested in CI (Linux only).
    static func decodePlatform(_ data: Data, format: Format, limits: ImageLimits,
                               source: String?) throws -> RGBImage {
        let name = format == .jpeg ? "JPEG" : "PNG"
        let options = [kCGImageSourceShouldCache: false] as CFDictionary
        guard let imageSource = CGImageSourceCreateWithData(data as CFData, options),
              CGImageSourceGetCount(imageSource) > 0,
              let properties = CGImageSourceCopyPropertiesAtIndex(imageSource, 0, options) as? [CFString: Any],
              let w = (properties[kCGImagePropertyPixelWidth] as? NSNumber)?.intValue,
              let h = (properties[kCGImagePropertyPixelHeight] as? NSNumber)?.intValue
        else { throw ImageError.corrupt(source: source, format: name, detail: "ImageIO cannot read the header") }
        let byteCount = try checkedByteCount(width: w, height: h, limits: limits, source: source, format: name)
        guard let decoded = CGImageSourceCreateImageAtIndex(imageSource, 0, options), decoded.width == w,
              decoded.height == h
        else { throw ImageError.corrupt(source: source, format: name, detail: "ImageIO cannot decode the image") }
        let image = withoutStraightAlpha(decoded) ?? decoded

        let gray = image.colorSpace?.model == .monochrome
        let space: CGColorSpace? = gray ? Optional(CGColorSpaceCreateDeviceGray())
            : (image.colorSpace?.model == .rgb ? image.colorSpace : CGColorSpace(name: CGColorSpace.sRGB))
        let channels = gray ? 1 : 4
        var bitmap = [UInt8](repeating: 0, count: w * h * channels) // <= 4/3 byteCount: no overflow
        let drawn: Bool = bitmap.withUnsafeMutableBytes { raw in
            guard let space,
                  let context = CGContext(data: raw.baseAddress, width: w, height: h, bitsPerComponent: 8,
                                          bytesPerRow: w * channels, space: space,
                                          bitmapInfo: gray ? CGImageAlphaInfo.none.rawValue
                                              : CGImageAlphaInfo.noneSkipLast.rawValue)
            else { return false }
            context.interpolationQuality = .none
            context.draw(image, in: CGRect(x: 0, y: 0, width: w, height: h))
            return true
        }
        guard drawn else { throw ImageError.outOfMemory(source: source) }
        var pixels = [UInt8](repeating: 0, count: byteCount)
        for i in 0..<(w * h) {
            for c in 0..<3 { pixels[3 * i + c] = gray ? bitmap[i] : bitmap[4 * i + c] }
        }
        return RGBImage(unchecked: w, h, pixels)
    }

    /// The same 8-bit pixels with straight alpha marked as padding, or nil when that does not apply.
    private static func withoutStraightAlpha(_ image: CGImage) -> CGImage? {
        let alpha = image.alphaInfo
        guard image.bitsPerComponent == 8, alpha == .first || alpha == .last,
              let provider = image.dataProvider, let space = image.colorSpace else { return nil }
        let skip: CGImageAlphaInfo = alpha == .first ? .noneSkipFirst : .noneSkipLast
        let order = image.bitmapInfo.rawValue & CGBitmapInfo.byteOrderMask.rawValue
        return CGImage(width: image.width, height: image.height, bitsPerComponent: 8,
                       bitsPerPixel: image.bitsPerPixel, bytesPerRow: image.bytesPerRow, space: space,
                       bitmapInfo: CGBitmapInfo(rawValue: skip.rawValue | order), provider: provider,
                       decode: nil, shouldInterpolate: false, intent: .defaultIntent)
    }
}
#endif
