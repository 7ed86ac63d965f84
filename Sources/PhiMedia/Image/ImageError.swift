/// Why an image could not be decoded or preprocessed. `source` is the file path when the image came from a file.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case emptyInput(source: String?)
    case encodedTooLarge(source: String?, bytes: Int, limit: Int)
    /// A recognised format PhiKit does not decode (GIF, WebP, BMP, TIFF, HEIC, …).
    case unsupportedFormat(source: String?, format: String)
    /// Neither JPEG nor PNG nor any format we can name.
    case unrecognizedFormat(source: String?)
    /// A JPEG or PNG variant we do not decode (e.g. a 2-component JPEG).
    case unsupportedVariant(source: String?, format: String, detail: String)
    case corrupt(source: String?, format: String, detail: String)
    case truncated(source: String?, format: String)
    case tooManyPixels(source: String?, width: Int, height: Int, limit: Int)
    case tooManyImages(count: Int, limit: Int)
    case invalidDimensions(width: Int, height: Int, byteCount: Int)
    /// The original processor refuses images whose resized side would be under 10 pixels.
    case extremeAspectRatio(width: Int, height: Int, resizedWidth: Int, resizedHeight: Int)
    case readFailed(source: String, detail: String)
    case outOfMemory(source: String?)
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .emptyInput(let source):
            return "\(Self.name(source)) is empty"
        case .encodedTooLarge(let source, let bytes, let limit):
            return "\(Self.name(source)) is \(bytes) bytes, over the \(limit)-byte limit for an encoded image"
        case .unsupportedFormat(let source, let format):
            let stem = source.map { $0.pathStem } ?? "image"
            return "\(Self.name(source)) is a \(format) file; only JPEG and PNG are supported. Convert it first, "
                + "e.g. `magick '\(source ?? "in")' '\(stem).png'` (ImageMagick) or `ffmpeg -i '\(source ?? "in")' "
                + "'\(stem).png'`"
        case .unrecognizedFormat(let source):
            return "\(Self.name(source)) is not a JPEG or PNG file (unrecognised signature)"
        case .unsupportedVariant(let source, let format, let detail):
            return "\(Self.name(source)): unsupported \(format) variant: \(detail)"
        case .corrupt(let source, let format, let detail):
            return "\(Self.name(source)) is a corrupt \(format) file: \(detail)"
        case .truncated(let source, let format):
            return "\(Self.name(source)) is a truncated \(format) file (the data ends before the image does)"
        case .tooManyPixels(let source, let width, let height, let limit):
            return "\(Self.name(source)) is \(width)x\(height) pixels, over the limit of \(limit) pixels; "
                + "downscale it first"
        case .tooManyImages(let count, let limit):
            return "\(count) images in one prompt, over the limit of \(limit)"
        case .invalidDimensions(let width, let height, let byteCount):
            return "invalid RGB image: \(width)x\(height) needs width*height*3 bytes, got \(byteCount)"
        case .extremeAspectRatio(let width, let height, let rw, let rh):
            return "a \(width)x\(height) image has too extreme an aspect ratio: it would be resized to \(rw)x\(rh) "
                + "(both sides must be at least 10 pixels)"
        case .readFailed(let source, let detail):
            return "cannot read \(source): \(detail)"
        case .outOfMemory(let source):
            return "out of memory decoding \(Self.name(source))"
        case .invalidParameter(let detail):
            return "invalid image processing parameter: \(detail)"
        }
    }

    static func name(_ source: String?) -> String { source.map { "'\($0)'" } ?? "the image" }
}

private extension String {
    /// The file name without directory and extension, for conversion hints.
    var pathStem: String {
        let base = split(separator: "/").last.map(String.init) ?? self
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }
}
