/// An 8-bit RGB image, interleaved and row-major (`pixels[(y * width + x) * 3 + c]`), the form every decoder
/// produces and the Phi-4-multimodal processor consumes.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// RGB interleaved, row-major; `width * height * 3` bytes.
    public let pixels: [UInt8]

    /// Validates that both sides are positive and that `pixels` holds exactly `width * height * 3` bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else {
            throw ImageError.invalidDimensions(width: width, height: height, byteCount: pixels.count)
        }
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (bytes, o2) = area.multipliedReportingOverflow(by: 3)
        guard !o1, !o2, bytes == pixels.count else {
            throw ImageError.invalidDimensions(width: width, height: height, byteCount: pixels.count)
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// For callers that have already validated the sizes.
    init(unchecked width: Int, _ height: Int, _ pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
