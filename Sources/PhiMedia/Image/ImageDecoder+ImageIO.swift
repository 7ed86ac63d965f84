#if canImport(ImageIO)
import CoreGraphics
import Foundation
import ImageIO

extension ImageDecoder {
    /// Apple platforms: ImageIO reads the header (size check before decoding), then the pixels are rendered into an
    /// 8-bit RGBX bitmap. Alpha is ignored by rendering into a context without alpha after forcing the source's
    /// alpha to be skipped, so colors are not composited. Not bit-exact with libjpeg-turbo's IDCT; untested here.
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
        guard let image = CGImageSourceCreateImageAtIndex(imageSource, 0, options), image.width == w,
              image.height == h
        else { throw ImageError.corrupt(source: source, format: name, detail: "ImageIO cannot decode the image") }
        // Re-tag straight alpha as skipped so drawing copies color channels instead of compositing them.
        let opaque: CGImage
        if let provider = image.dataProvider, image.bitsPerComponent == 8, image.alphaInfo != .none,
           image.alphaInfo != .premultipliedFirst, image.alphaInfo != .premultipliedLast,
           let colorSpace = image.colorSpace,
           let retagged = CGImage(width: w, height: h, bitsPerComponent: 8, bitsPerPixel: image.bitsPerPixel,
                                  bytesPerRow: image.bytesPerRow, space: colorSpace,
                                  bitmapInfo: CGBitmapInfo(rawValue: image.alphaInfo == .first || image.alphaInfo == .noneSkipFirst
                                      ? CGImageAlphaInfo.noneSkipFirst.rawValue : CGImageAlphaInfo.noneSkipLast.rawValue)
                                      .union(CGBitmapInfo(rawValue: image.bitmapInfo.rawValue & CGBitmapInfo.byteOrderMask.rawValue)),
                                  provider: provider, decode: nil, shouldInterpolate: false, intent: .defaultIntent) {
            opaque = retagged
        } else {
            opaque = image
        }
        let (rgbxBytes, overflow) = byteCount.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw ImageError.tooManyPixels(source: source, width: w, height: h, limit: limits.maxPixels) }
        var rgbx = [UInt8](repeating: 0, count: rgbxBytes / 3)
        let drawn: Bool = rgbx.withUnsafeMutableBytes { raw in
            guard let space = CGColorSpace(name: CGColorSpace.sRGB),
                  let context = CGContext(data: raw.baseAddress, width: w, height: h, bitsPerComponent: 8,
                                          bytesPerRow: w * 4, space: space,
                                          bitmapInfo: CGImageAlphaInfo.noneSkipLast.rawValue)
            else { return false }
            context.interpolationQuality = .none
            context.draw(opaque, in: CGRect(x: 0, y: 0, width: w, height: h))
            return true
        }
        guard drawn else { throw ImageError.outOfMemory(source: source) }
        var pixels = [UInt8](repeating: 0, count: byteCount)
        for i in 0..<(w * h) {
            pixels[3 * i] = rgbx[4 * i]
            pixels[3 * i + 1] = rgbx[4 * i + 1]
            pixels[3 * i + 2] = rgbx[4 * i + 2]
        }
        return RGBImage(unchecked: w, h, pixels)
    }
}
#endif
