import Foundation
import PhiKernels
import PhiTensor

/// One memory-mapped, fully validated .safetensors file.
///
/// Tensors are zero-copy views into the mapping; each `Tensor`'s `owner` is this object, so the
/// mapping lives as long as any tensor taken from it.
///
/// Alignment: the safetensors format does not require tensor data to be aligned (the writer
/// pads the header to 8 bytes, but a BF16 tensor with an odd element count shifts every tensor
/// after it). Kernels reading `Tensor.data` must therefore tolerate unaligned element loads
/// (x86-64 and arm64 do in hardware; use `loadUnaligned` or memcpy in Swift/C), or check
/// `isAligned(_:)` and copy when it is false.
///
/// The file must not be truncated or rewritten in place while it is open: pages of a shrunken
/// mapping fault on access. (`SafetensorsWriter` writes to a temporary file and renames it,
/// which leaves existing mappings intact.)
public final class SafetensorsFile: @unchecked Sendable {
    /// Headers larger than this are rejected (the reference implementation's limit).
    public static let maxHeaderBytes = SafetensorsHeader.maxHeaderBytes

    public let url: URL
    public var path: String { url.path }
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    /// Every tensor in the header, including those whose dtype PhiKit does not compute with.
    public let entries: [String: SafetensorsEntry]
    /// Tensor names, sorted.
    public let names: [String]
    /// Bytes of JSON header (N in the format description).
    public let headerByteCount: Int
    /// Size of the data section that follows the header.
    public let dataByteCount: Int
    /// File offset of the data section: 8 + N.
    public var dataOffset: Int { 8 + headerByteCount }

    fileprivate let mapping: MappedFile

    public convenience init(path: String) throws(WeightsError) {
        try self.init(url: URL(fileURLWithPath: path))
    }

    public init(url: URL) throws(WeightsError) {
        self.url = url
        let path = url.path
        mapping = try MappedFile.weights(path: path)
        let header = try SafetensorsHeader.parse(mapping.bytes(offset: 0, count: mapping.byteCount), path: path)
        metadata = header.metadata
        entries = header.entries
        names = header.entries.keys.sorted()
        headerByteCount = header.headerByteCount
        dataByteCount = header.dataByteCount
    }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    public func entry(_ name: String) -> SafetensorsEntry? { entries[name] }

    /// A zero-copy view of the tensor. Throws for unknown names and for dtypes other than
    /// F32, F16 and BF16 (they stay listed in `entries` so callers can report them).
    public func tensor(named name: String) throws(WeightsError) -> Tensor {
        guard let e = entries[name] else {
            throw WeightsError.missingTensor(name: name, directory: path)
        }
        guard let dtype = e.supportedDType else {
            throw WeightsError.unsupportedDType(file: path, tensor: name, dtype: e.dtype)
        }
        return Tensor(dtype: dtype, shape: e.shape, data: try pointer(to: e), owner: self)
    }

    /// The tensor's raw bytes, whatever its dtype; valid while this file object lives.
    public func rawBytes(named name: String) throws(WeightsError) -> UnsafeRawBufferPointer {
        guard let e = entries[name] else {
            throw WeightsError.missingTensor(name: name, directory: path)
        }
        return UnsafeRawBufferPointer(start: try pointer(to: e), count: e.byteCount)
    }

    /// Whether the tensor's first element sits at a multiple of its element size in memory
    /// (the mapping itself is page-aligned). Sub-byte dtypes are always considered aligned.
    public func isAligned(_ name: String) -> Bool {
        guard let e = entries[name], let bits = SafetensorsDTypes.bitSizes[e.dtype] else { return false }
        let size = bits / 8
        guard size > 1 else { return true }
        return (dataOffset + e.begin) % size == 0
    }

    /// True when the mapping's bytes [offset, offset+count) contain `pointer`; lets tests prove
    /// that tensors are views, not copies.
    public func mappingContains(_ pointer: UnsafeRawPointer, count: Int = 0) -> Bool {
        guard let base = mapping.base else { return false }
        let start = UInt(bitPattern: base), p = UInt(bitPattern: pointer)
        let end = start + UInt(mapping.byteCount)
        return p >= start && p <= end && UInt(max(count, 0)) <= end - p
    }

    private func pointer(to e: SafetensorsEntry) throws(WeightsError) -> UnsafeRawPointer {
        // The header was validated: dataOffset + e.end <= byteCount, and the file is >= 8 bytes.
        guard let base = mapping.base else {
            throw WeightsError.io(file: path, reason: "file is not mapped")
        }
        return base + (dataOffset + e.begin)
    }
}

extension SafetensorsFile: MappedTensorOwner {
    public func releasePages(_ pointer: UnsafeRawPointer, count: Int) { mapping.release(pointer, count: count) }
}
