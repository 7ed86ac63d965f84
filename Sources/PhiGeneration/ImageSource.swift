import Foundation
import PhiMedia

/// An image given with a prompt: a file, encoded bytes (JPEG/PNG), or decoded RGB pixels.
public enum ImageSource: Sendable {
    case file(URL)
    case data(Data)
    case pixels(RGBImage)

    func decode(limits: ImageLimits) throws -> RGBImage {
        switch self {
        case .file(let url): return try ImageDecoder.decode(contentsOf: url, limits: limits)
        case .data(let d): return try ImageDecoder.decode(d, limits: limits)
        case .pixels(let p):
            guard p.width * p.height <= limits.maxPixels else {
                throw MultimodalError.invalid("the image has \(p.width)×\(p.height) pixels, over the limit of \(limits.maxPixels)")
            }
            return p
        }
    }
}
