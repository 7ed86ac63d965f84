import Foundation
import PhiKernels
import PhiTensor

/// One memory-mapped, fully validated GGUF file (versions 2 and 3, little-endian).
///
/// Tensors are zero-copy views into the mapping; each `Tensor`'s `owner` is this object, so the mapping lives as
/// long as any tensor taken from it. GGUF stores dimensions fastest-first; `Tensor.shape` and
/// `GGUFTensorInfo.shape` are in PyTorch order (`[rows, rowLength]`), as for safetensors, and
/// `GGUFTensorInfo.dimensions` keeps the GGUF order.
///
/// Every tensor starts at a multiple of `alignment` (≥ 32 by default) from a page-aligned mapping, so its data
/// pointer is aligned to at least `min(alignment, page size)`.
///
/// Tensors of every GGML type are listed in `tensorInfos`; `tensor(named:)` returns views only for the types PhiKit
/// computes with (`GGMLType.supported`: the DType cases, i.e. the weight rows of the C type table) and throws a
/// clear error naming the type otherwise. `rawBytes(named:)` works for every type.
///
/// The file must not be truncated or rewritten in place while it is open (`GGUFWriter` writes to a temporary file
/// and renames it).
public final class GGUFFile: @unchecked Sendable {
    /// More tensors than this are rejected before anything is allocated.
    public static let maxTensorCount = 1 << 20
    /// More metadata entries than this are rejected before anything is allocated.
    public static let maxMetadataCount = 1 << 20
    /// Longest metadata string value (a chat template or a token).
    public static let maxStringBytes = 64 << 20
    /// Longest metadata key or tensor name.
    public static let maxNameBytes = 1 << 16
    /// Most elements in one metadata array.
    public static let maxArrayElements = 1 << 24
    /// Most metadata values in the whole file, array elements included (a 200k-token vocabulary with merges and
    /// token types is about 600k).
    public static let maxMetadataValues = 1 << 24
    /// Deepest nesting of arrays (llama.cpp reads none; gguf-py writes them).
    public static let maxArrayDepth = 3
    /// Largest `general.alignment` accepted.
    public static let maxAlignment = 1 << 16
    /// Alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// GGML_MAX_DIMS.
    public static let maxDimensions = 4

    public let url: URL
    public var path: String { url.path }
    /// The GGUF version (2 or 3).
    public let version: Int
    /// `general.alignment`, or 32.
    public let alignment: Int
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Every metadata entry.
    public let metadata: [String: GGUFValue]
    /// Every tensor info, in file order, including those whose type PhiKit does not compute with.
    public let tensorInfos: [GGUFTensorInfo]
    /// Tensor names, sorted.
    public let names: [String]
    /// File offset of the data section.
    public let dataOffset: Int
    /// Bytes from `dataOffset` to the end of the file.
    public let dataByteCount: Int
    /// Size of the whole file.
    public var byteCount: Int { mapping.byteCount }

    private let tensorIndex: [String: Int]
    fileprivate let mapping: MappedFile

    public convenience init(path: String) throws(WeightsError) {
        try self.init(url: URL(fileURLWithPath: path))
    }

    public init(url: URL) throws(WeightsError) {
        self.url = url
        let path = url.path
        mapping = try MappedFile.weights(path: path)
        let header = try GGUFHeader.parse(mapping.bytes(offset: 0, count: mapping.byteCount), path: path)
        version = header.version
        alignment = header.alignment
        metadataKeys = header.metadataKeys
        metadata = header.metadata
        tensorInfos = header.tensorInfos
        tensorIndex = header.tensorIndex
        names = header.tensorInfos.map(\.name).sorted()
        dataOffset = header.dataOffset
        dataByteCount = header.dataByteCount
    }

    /// `general.architecture` ("llama", "phi3", ...), when present and a string.
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    public func contains(_ name: String) -> Bool { tensorIndex[name] != nil }

    public func entry(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensorInfos[$0] } }

    /// A zero-copy view of the tensor, shaped in PyTorch order. Throws for unknown names and for GGML types PhiKit
    /// does not compute with (they stay listed in `tensorInfos` so callers can report them).
    public func tensor(named name: String) throws(WeightsError) -> Tensor {
        let info = try lookup(name)
        guard let dtype = info.dtype else {
            throw WeightsError.invalidFile(file: path, reason: Self.unsupportedMessage(info))
        }
        return Tensor(dtype: dtype, shape: info.shape, data: try pointer(to: info), owner: self)
    }

    /// The tensor's raw bytes, whatever its type; valid while this file object lives.
    public func rawBytes(named name: String) throws(WeightsError) -> UnsafeRawBufferPointer {
        let info = try lookup(name)
        return UnsafeRawBufferPointer(start: try pointer(to: info), count: info.byteCount)
    }

    /// True when the mapping's bytes contain [pointer, pointer + count); lets tests prove tensors are views.
    public func mappingContains(_ pointer: UnsafeRawPointer, count: Int = 0) -> Bool {
        guard let base = mapping.base else { return false }
        let start = UInt(bitPattern: base), p = UInt(bitPattern: pointer)
        let end = start + UInt(mapping.byteCount)
        return p >= start && p <= end && UInt(max(count, 0)) <= end - p
    }

    static func unsupportedMessage(_ info: GGUFTensorInfo) -> String {
        "tensor '\(info.name)' has type \(info.type), which PhiKit does not support (it computes with "
            + GGMLType.supported.map(\.name).joined(separator: ", ") + ")"
    }

    private func lookup(_ name: String) throws(WeightsError) -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else { throw WeightsError.missingTensor(name: name, directory: path) }
        return tensorInfos[i]
    }

    private func pointer(to info: GGUFTensorInfo) throws(WeightsError) -> UnsafeRawPointer {
        // Validated: dataOffset + info.offset + info.byteCount <= byteCount, and byteCount > 0 (tensors are non-empty).
        guard let base = mapping.base else { throw WeightsError.io(file: path, reason: "file is not mapped") }
        return base + (dataOffset + info.offset)
    }
}

extension GGUFFile: MappedTensorOwner {
    public func releasePages(_ pointer: UnsafeRawPointer, count: Int) { mapping.release(pointer, count: count) }
}
