import Foundation
import PhiKernels

/// Decodes JPEG and PNG files to `RGBImage`, with the pixels Pillow's `Image.open(f).convert("RGB")` gives
/// (no EXIF rotation, alpha dropped rather than composited, palettes looked up, 16-bit as Pillow reduces it).
///
/// Linux uses the system libjpeg-turbo and libpng through `CPhiMedia`; Apple platforms use ImageIO. Every size is
/// checked against `ImageLimits` before pixel memory is allocated, and damaged or unsupported input is an
/// `ImageError`, never a crash.
public enum ImageDecoder {
    /// The container format recognised from the first bytes.
    enum Format: Equatable {
        case jpeg, png
        case other(String)
        case unknown
    }

    public static func decode(_ data: Data, limits: ImageLimits = .default) throws -> RGBImage {
        try decode(data, limits: limits, source: nil)
    }

    public static func decode(contentsOf url: URL, limits: ImageLimits = .default) throws -> RGBImage {
        let path = url.isFileURL ? url.path : url.absoluteString
        guard url.isFileURL else { throw ImageError.readFailed(source: path, detail: "not a file URL") }
        // Only regular files, opened without blocking: a directory fails, and a device or FIFO (/dev/zero, a pipe)
        // could block or never end.
        let data: Data
        do throws(SafeFileError) {
            data = try SafeFile.read(url, limit: limits.maxEncodedBytes)
        } catch {
            if case .tooLarge(_, let bytes, let limit) = error {
                throw ImageError.encodedTooLarge(source: path, bytes: bytes, limit: limit)
            }
            throw ImageError.readFailed(source: path, detail: error.reason)
        }
        return try decode(data, limits: limits, source: path)
    }

    static func decode(_ data: Data, limits: ImageLimits, source: String?) throws -> RGBImage {
        if data.isEmpty { throw ImageError.emptyInput(source: source) }
        if data.count > limits.maxEncodedBytes {
            throw ImageError.encodedTooLarge(source: source, bytes: data.count, limit: limits.maxEncodedBytes)
        }
        switch detectFormat(data) {
        case .jpeg: return try decodePlatform(data, format: .jpeg, limits: limits, source: source)
        case .png: return try decodePlatform(data, format: .png, limits: limits, source: source)
        case .other(let name): throw ImageError.unsupportedFormat(source: source, format: name)
        case .unknown: throw ImageError.unrecognizedFormat(source: source)
        }
    }

    /// Checked before allocating: `width * height` against the limit, and the RGB byte count for overflow.
    static func checkedByteCount(width: Int, height: Int, limits: ImageLimits, source: String?,
                                 format: String) throws -> Int {
        guard width > 0, height > 0 else {
            throw ImageError.corrupt(source: source, format: format, detail: "image size \(width)x\(height)")
        }
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        guard !o1, area <= limits.maxPixels else {
            throw ImageError.tooManyPixels(source: source, width: width, height: height, limit: limits.maxPixels)
        }
        let (bytes, o2) = area.multipliedReportingOverflow(by: 3)
        guard !o2 else {
            throw ImageError.tooManyPixels(source: source, width: width, height: height, limit: limits.maxPixels)
        }
        return bytes
    }

    /// Signatures of the formats a user is likely to hand us. Only JPEG and PNG decode; the rest are named in the
    /// error so the user knows what to convert.
    static func detectFormat(_ data: Data) -> Format {
        let b = [UInt8](data.prefix(16))
        func starts(_ sig: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + sig.count && Array(b[offset..<offset + sig.count]) == sig
        }
        func ascii(_ s: String, at offset: Int = 0) -> Bool { starts(Array(s.utf8), at: offset) }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if ascii("GIF87a") || ascii("GIF89a") { return .other("GIF") }
        if ascii("RIFF") && ascii("WEBP", at: 8) { return .other("WebP") }
        if ascii("BM") { return .other("BMP") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
            || starts([0x49, 0x49, 0x2B, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2B]) { return .other("TIFF") }
        if ascii("ftyp", at: 4) {
            let brand = b.count >= 12 ? String(decoding: b[8..<12], as: UTF8.self) : ""
            if brand.hasPrefix("avi") { return .other("AVIF") }
            if ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].contains(brand) {
                return .other("HEIF/HEIC")
            }
            if brand == "jp2 " { return .other("JPEG 2000") }
            return .other("ISO media (\(brand.trimmingCharacters(in: .whitespaces)))")
        }
        if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || starts([0xFF, 0x4F, 0xFF, 0x51]) {
            return .other("JPEG 2000")
        }
        if starts([0xFF, 0x0A]) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) {
            return .other("JPEG XL")
        }
        if starts([0x00, 0x00, 0x01, 0x00]) { return .other("ICO") }
        if ascii("8BPS") { return .other("Photoshop PSD") }
        if ascii("%PDF") { return .other("PDF") }
        if ascii("qoif") { return .other("QOI") }
        if ascii("<svg") || ascii("<?xml") { return .other("SVG/XML") }
        return .unknown
    }
}
