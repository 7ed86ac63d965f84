import PhiTensor

/// A GGML tensor type (`enum ggml_type`) as stored in GGUF tensor infos: its numeric id, its name and its block
/// layout. The table lists every id GGML has assigned, so a file with a type PhiKit does not compute with can still
/// be validated (its sizes are known) and reported by name ("Q5_0 (6)").
public struct GGMLType: Sendable, Hashable, CustomStringConvertible {
    /// The `ggml_type` value.
    public let id: Int
    /// GGML's name (`ggml_type_name`), e.g. "Q4_K".
    public let name: String
    /// Values per block (1 for plain types); 0 for ids GGML has removed.
    public let blockElements: Int
    /// Bytes per block; 0 for ids GGML has removed.
    public let blockBytes: Int

    public var description: String { "\(name) (\(id))" }

    /// An id GGML once used and has since removed (Q4_2, Q4_0_4_4, ...); files with such tensors are rejected.
    public var isRemoved: Bool { blockElements == 0 }

    /// The element type PhiKit computes with, or nil when PhiKit does not support this type.
    public var dtype: DType? { DType(ggmlType: id) }

    /// Bytes that `count` values occupy, or nil when `count` is negative, not a whole number of blocks, or the
    /// product overflows (and always nil for removed types).
    public func byteCount(elements count: Int) -> Int? {
        guard blockElements > 0, count >= 0, count % blockElements == 0 else { return nil }
        let (bytes, overflow) = (count / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// The type with this id, or nil for ids GGML has never assigned.
    public init?(id: Int) {
        guard id >= 0, id < Self.byID.count, let t = Self.byID[id] else { return nil }
        self = t
    }

    /// The type with this GGML name ("Q8_0", "BF16", ...).
    public init?(named name: String) {
        guard let t = Self.all.first(where: { $0.name == name }) else { return nil }
        self = t
    }

    /// The GGML type of a PhiKit element type.
    public init(_ dtype: DType) {
        // Every DType has a GGML id in the table (checked by tests); the fallback keeps this total.
        self = GGMLType(id: dtype.ggmlType) ?? GGMLType(known: dtype)
    }

    /// A type PhiKit computes with: id, name and sizes from the C type table (through DType), never restated here.
    private init(known dtype: DType) {
        self.init(dtype.ggmlType, dtype.rawValue, dtype.blockElements, dtype.blockBytes)
    }

    private init(_ id: Int, _ name: String, _ blockElements: Int, _ blockBytes: Int) {
        self.id = id
        self.name = name
        self.blockElements = blockElements
        self.blockBytes = blockBytes
    }

    /// Every type id GGML has assigned, in id order: the types PhiKit computes with from its own table, the others
    /// with block sizes from ggml's `type_traits` (ggml-org/llama.cpp ggml/src/ggml.c). Removed ids have block sizes
    /// of 0.
    public static let all: [GGMLType] = [
        GGMLType(known: .f32),
        GGMLType(known: .f16),
        GGMLType(known: .q4_0),
        GGMLType(known: .q4_1),
        GGMLType(4, "Q4_2", 0, 0),
        GGMLType(5, "Q4_3", 0, 0),
        GGMLType(known: .q5_0),
        GGMLType(7, "Q5_1", 32, 24),
        GGMLType(known: .q8_0),
        GGMLType(9, "Q8_1", 32, 36),
        GGMLType(10, "Q2_K", 256, 84),
        GGMLType(11, "Q3_K", 256, 110),
        GGMLType(known: .q4_K),
        GGMLType(known: .q5_K),
        GGMLType(known: .q6_K),
        GGMLType(15, "Q8_K", 256, 292),
        GGMLType(16, "IQ2_XXS", 256, 66),
        GGMLType(17, "IQ2_XS", 256, 74),
        GGMLType(18, "IQ3_XXS", 256, 98),
        GGMLType(19, "IQ1_S", 256, 50),
        GGMLType(20, "IQ4_NL", 32, 18),
        GGMLType(21, "IQ3_S", 256, 110),
        GGMLType(22, "IQ2_S", 256, 82),
        GGMLType(23, "IQ4_XS", 256, 136),
        GGMLType(24, "I8", 1, 1),
        GGMLType(25, "I16", 1, 2),
        GGMLType(26, "I32", 1, 4),
        GGMLType(27, "I64", 1, 8),
        GGMLType(28, "F64", 1, 8),
        GGMLType(29, "IQ1_M", 256, 56),
        GGMLType(known: .bf16),
        GGMLType(31, "Q4_0_4_4", 0, 0),
        GGMLType(32, "Q4_0_4_8", 0, 0),
        GGMLType(33, "Q4_0_8_8", 0, 0),
        GGMLType(34, "TQ1_0", 256, 54),
        GGMLType(35, "TQ2_0", 256, 66),
        GGMLType(36, "IQ4_NL_4_4", 0, 0),
        GGMLType(37, "IQ4_NL_4_8", 0, 0),
        GGMLType(38, "IQ4_NL_8_8", 0, 0),
        GGMLType(39, "MXFP4", 32, 17),
        GGMLType(40, "NVFP4", 64, 36),
        GGMLType(41, "Q1_0", 128, 18),
    ]

    private static let byID: [GGMLType?] = {
        var table = [GGMLType?](repeating: nil, count: (all.map(\.id).max() ?? 0) + 1)
        for t in all where t.id >= 0 { table[t.id] = t }
        return table
    }()

    /// The types `GGUFFile.tensor(named:)` returns views for.
    public static var supported: [GGMLType] { DType.allCases.map { GGMLType($0) } }
}

/// The type tag of a GGUF metadata value (`enum gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }

    /// Bytes of one value of a fixed-size type; nil for strings and arrays.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value of this type can occupy in a file (a string is at least its 8-byte length,
    /// an array at least its 4-byte element type and 8-byte count). Bounds counts before anything is allocated.
    var minimumSize: Int {
        switch self {
        case .string: return 8
        case .array: return 12
        default: return fixedSize ?? 1
        }
    }
}
