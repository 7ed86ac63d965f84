import PhiTensor

/// One tensor as described by a GGUF tensor info, already validated against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// Dimensions in GGUF order, fastest-varying first: `dimensions[0]` (ggml's `ne[0]`) is the row length.
    public let dimensions: [Int]
    /// Dimensions in PyTorch order (`dimensions` reversed), e.g. `[rows, rowLength]`; the convention of
    /// safetensors and of `Tensor.shape`.
    public let shape: [Int]
    /// Byte offset of the first element, relative to the start of the data section.
    public let offset: Int
    public let byteCount: Int
    public let elementCount: Int
    /// Position of the tensor info in the file.
    public let index: Int

    /// The element type PhiKit computes with, or nil when PhiKit does not support `type`.
    public var dtype: DType? { type.dtype }

    init(name: String, type: GGMLType, dimensions: [Int], offset: Int, byteCount: Int, elementCount: Int, index: Int) {
        self.name = name
        self.type = type
        self.dimensions = dimensions
        self.shape = dimensions.reversed()
        self.offset = offset
        self.byteCount = byteCount
        self.elementCount = elementCount
        self.index = index
    }
}
