/// Upper bounds enforced before any image memory is allocated (DESIGN: multimodal limits are explicit).
public struct ImageLimits: Sendable, Equatable {
    /// Largest decoded `width * height`. The default, 8192 × 8192 (67 Mpx), admits any 50-megapixel photo; the
    /// decoded RGB buffer is then at most 192 MiB.
    public var maxPixels: Int
    /// Largest encoded file, checked before the file is read.
    public var maxEncodedBytes: Int
    /// Most images one prompt may carry; see `checkImageCount(_:)`.
    public var maxImagesPerPrompt: Int

    public init(maxPixels: Int = 8192 * 8192, maxEncodedBytes: Int = 128 << 20, maxImagesPerPrompt: Int = 16) {
        self.maxPixels = maxPixels
        self.maxEncodedBytes = maxEncodedBytes
        self.maxImagesPerPrompt = maxImagesPerPrompt
    }

    public static let `default` = ImageLimits()

    /// Throws `ImageError.tooManyImages` when a prompt carries more than `maxImagesPerPrompt` images.
    public func checkImageCount(_ count: Int) throws {
        if count > maxImagesPerPrompt { throw ImageError.tooManyImages(count: count, limit: maxImagesPerPrompt) }
    }
}
