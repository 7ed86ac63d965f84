import CPhiKernels

/// Element types of stored weights (activations are always f32): Swift's face of the one C table of types
/// (CPhiTypes.h, quant_traits.c). A case is only a name; its GGML id, block size and bytes per block are read
/// from the table's row of that name (DTypeTableTests walks the table and checks both sides agree). Raw values are
/// the GGML/safetensors names. Quantized types store blocks of `blockElements` values in `blockBytes` bytes, laid
/// out as GGML does.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case q8_0 = "Q8_0"
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"
    case q5_0 = "Q5_0"
    case q4_K = "Q4_K"
    case q5_K = "Q5_K"
    case q6_K = "Q6_K"

    /// GGML's type id (`ggml_type`, as GGUF tensor infos store it), which is also the C table's id.
    public var ggmlType: Int { row.id }

    /// The id the C kernels take.
    public var id: Int32 { Int32(truncatingIfNeeded: row.id) }

    /// Values per block (1 for plain floats).
    public var blockElements: Int { row.blockElements }

    /// Bytes per block.
    public var blockBytes: Int { row.blockBytes }

    public var isQuantized: Bool { blockElements > 1 }

    /// Whether the quantized products (`QuantKernels.matmul`) take weights of this type.
    public var hasQuantizedProducts: Bool { row.hasProducts }

    /// Whether the C table has a reference quantizer from f32 for this type.
    public var canQuantize: Bool { row.canQuantize }

    public init?(ggmlType: Int) {
        guard let t = DType.allCases.first(where: { $0.ggmlType == ggmlType }) else { return nil }
        self = t
    }

    /// Bytes that `count` values occupy, or nil when `count` is not a whole number of blocks or overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard blockElements > 0, count >= 0, count % blockElements == 0 else { return nil }
        let (b, o) = (count / blockElements).multipliedReportingOverflow(by: blockBytes)
        return o ? nil : b
    }

    // MARK: - the table

    struct Row: Sendable {
        var id = -1, blockElements = 0, blockBytes = 0
        var hasProducts = false, canQuantize = false
    }

    /// The C rows of the cases, by name, read once.
    private static let rows: [DType: Row] = {
        var rows: [DType: Row] = [:]
        for i in 0..<phi_type_traits_count() {
            guard let t = phi_type_traits_at(i)?.pointee, t.weight != 0, let name = t.name,
                  let dtype = DType(rawValue: String(cString: name)) else { continue }
            rows[dtype] = Row(id: Int(t.type), blockElements: Int(t.block_elements), blockBytes: Int(t.block_bytes),
                              hasProducts: t.vec_dot_ref != nil, canQuantize: t.quantize != nil)
        }
        return rows
    }()

    /// This case's row (an empty row, id -1 and no blocks, if the table lacked the name: DTypeTableTests fails).
    var row: Row { Self.rows[self] ?? Row() }
}
