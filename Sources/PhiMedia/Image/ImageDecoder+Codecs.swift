#if !canImport(ImageIO)
import CPhiMedia
import Foundation

extension ImageDecoder {
    /// libjpeg-turbo / libpng through CPhiMedia: header first, limit check, then one allocation the C side fills.
    static func decodePlatform(_ data: Data, format: Format, limits: ImageLimits,
                               source: String?) throws -> RGBImage {
        let name = format == .jpeg ? "JPEG" : "PNG"
        var message = [CChar](repeating: 0, count: 256)
        var width: UInt32 = 0
        var height: UInt32 = 0
        let status: Int32 = data.withUnsafeBytes { raw -> Int32 in
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            return message.withUnsafeMutableBufferPointer { msg in
                format == .jpeg
                    ? phi_jpeg_read_size(base, raw.count, &width, &height, msg.baseAddress, msg.count)
                    : phi_png_read_size(base, raw.count, &width, &height, msg.baseAddress, msg.count)
            }
        }
        try check(status, message, name, source)
        let w = Int(width), h = Int(height)
        let byteCount = try checkedByteCount(width: w, height: h, limits: limits, source: source, format: name)
        var decodeStatus: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            decodeStatus = data.withUnsafeBytes { raw -> Int32 in
                let base = raw.bindMemory(to: UInt8.self).baseAddress
                return message.withUnsafeMutableBufferPointer { msg in
                    format == .jpeg
                        ? phi_jpeg_decode_rgb(base, raw.count, width, height, buffer.baseAddress, byteCount,
                                              msg.baseAddress, msg.count)
                        : phi_png_decode_rgb(base, raw.count, width, height, buffer.baseAddress, byteCount,
                                             msg.baseAddress, msg.count)
                }
            }
            if decodeStatus != Int32(PHI_IMG_OK) {
                // Never expose uninitialized bytes, even in an array that is about to be dropped.
                buffer.initialize(repeating: 0)
            }
            initialized = byteCount
        }
        try check(decodeStatus, message, name, source)
        return RGBImage(unchecked: w, h, pixels)
    }

    private static func check(_ status: Int32, _ message: [CChar], _ format: String, _ source: String?) throws {
        if status == Int32(PHI_IMG_OK) { return }
        let detail = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case Int(PHI_IMG_TRUNCATED): throw ImageError.truncated(source: source, format: format)
        case Int(PHI_IMG_UNSUPPORTED): throw ImageError.unsupportedVariant(source: source, format: format, detail: detail)
        case Int(PHI_IMG_NOMEM): throw ImageError.outOfMemory(source: source)
        default: throw ImageError.corrupt(source: source, format: format, detail: detail.isEmpty ? "decode failed" : detail)
        }
    }
}
#endif
