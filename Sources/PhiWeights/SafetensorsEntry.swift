import PhiTensor

/// One tensor as described by a safetensors header, already validated against the file.
public struct SafetensorsEntry: Sendable, Equatable {
    public let name: String
    /// The dtype string verbatim from the header ("F32", "BF16", "I64", ...).
    public let dtype: String
    public let shape: [Int]
    /// Byte range [begin, end) relative to the start of the data section.
    public let begin: Int
    public let end: Int

    public var byteCount: Int { end - begin }

    /// The dtype PhiKit computes with, or nil for a recognised but unsupported one.
    /// The dtype as PhiKit computes with it; safetensors files only ever carry the plain float types.
    public var supportedDType: DType? {
        guard let t = DType(rawValue: dtype), !t.isQuantized else { return nil }
        return t
    }
}

/// The dtypes the safetensors format defines, with their sizes in bits.
public enum SafetensorsDTypes {
    public static let bitSizes: [String: Int] = [
        "BOOL": 8, "U8": 8, "I8": 8,
        "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
        "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32,
        "I64": 64, "U64": 64, "F64": 64, "C64": 64,
        "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    ]

    /// Bytes occupied by `count` elements of `dtype`, or nil on overflow or a sub-byte
    /// total that does not end on a byte boundary (the format forbids that).
    public static func byteCount(dtype: String, count: Int) -> Int? {
        guard let bits = bitSizes[dtype], count >= 0 else { return nil }
        let (totalBits, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow, totalBits % 8 == 0 else { return nil }
        return totalBits / 8
    }
}
