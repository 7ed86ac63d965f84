#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PhiTensor

/// Writes GGUF files (little-endian, version 3 by default) that `GGUFFile`, gguf-py and llama.cpp accept.
///
/// Metadata is written in insertion order, tensors in the order they were added, each at the next multiple of
/// `alignment` and followed by zero padding to the alignment (as gguf-py does). Tensors of any GGML type with a
/// known block layout can be written from raw block bytes, so quantizers produce the bytes and this type only
/// lays them out. An alignment other than 32 is recorded as `general.alignment` (uint32). Files are written to a
/// temporary name and renamed into place.
public struct GGUFWriter: Sendable {
    /// Name, type and dimensions of one tensor.
    public struct TensorLayout: Sendable, Equatable {
        public let name: String
        public let type: GGMLType
        /// GGUF order: `dimensions[0]` is the row length.
        public let dimensions: [Int]

        public init(name: String, type: GGMLType, dimensions: [Int]) {
            self.name = name
            self.type = type
            self.dimensions = dimensions
        }

        /// `shape` in PyTorch order (`[rows, rowLength]`), as `Tensor.shape`.
        public init(name: String, dtype: DType, shape: [Int]) {
            self.init(name: name, type: GGMLType(dtype), dimensions: shape.reversed())
        }
    }

    public var version: Int
    public var alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [TensorLayout] = []
    private var tensorBytes: [[UInt8]?] = []

    public init(alignment: Int = GGUFFile.defaultAlignment, version: Int = 3) {
        self.alignment = alignment
        self.version = version
    }

    /// Sets a metadata value; setting an existing key replaces its value in place.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) {
            metadata[i].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor with its raw bytes (little-endian values, or GGML blocks for quantized types).
    public mutating func addTensor(_ layout: TensorLayout, bytes: [UInt8]) {
        tensors.append(layout)
        tensorBytes.append(bytes)
    }

    /// Adds a tensor whose bytes the streaming `write(to:bytes:)` will ask for.
    public mutating func addTensor(_ layout: TensorLayout) {
        tensors.append(layout)
        tensorBytes.append(nil)
    }

    public mutating func addTensor(name: String, type: GGMLType, dimensions: [Int], bytes: [UInt8]) {
        addTensor(TensorLayout(name: name, type: type, dimensions: dimensions), bytes: bytes)
    }

    /// `shape` in PyTorch order.
    public mutating func addTensor(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        addTensor(TensorLayout(name: name, dtype: dtype, shape: shape), bytes: bytes)
    }

    /// The complete file as bytes (for tests and small files).
    public func encode() throws(WeightsError) -> [UInt8] {
        let file = "(memory)"
        let plan = try makePlan(file: file)
        var out = plan.prefix
        out.reserveCapacity(plan.prefix.count + plan.dataByteCount)
        for (i, layout) in tensors.enumerated() {
            let chunk = tensorBytes[i] ?? []
            try check(chunk.count, layout, plan.sizes[i], file: file)
            out.append(contentsOf: chunk)
            out.append(contentsOf: repeatElement(0, count: plan.padding[i]))
        }
        return out
    }

    /// Writes the tensors added with their bytes.
    public func write(to url: URL) throws(WeightsError) {
        var next = 0
        try write(to: url) { layout in
            defer { next += 1 }
            guard next < tensorBytes.count, let bytes = tensorBytes[next] else {
                throw WeightsError.writeFailed(file: url.path, reason: "tensor '\(layout.name)' was added without bytes")
            }
            return bytes
        }
    }

    /// Streams a file: `bytes` is called once per tensor, in order, so a converter never holds more than one
    /// tensor's output in memory.
    public func write(to url: URL, bytes: (TensorLayout) throws -> [UInt8]) throws(WeightsError) {
        let path = url.path
        let plan = try makePlan(file: path)
        let out = try AtomicFileWriter(path: path)
        try out.put(plan.prefix)
        for (i, layout) in tensors.enumerated() {
            let chunk = try out.produce(layout.name) { try bytes(layout) }
            try check(chunk.count, layout, plan.sizes[i], file: path)
            try out.put(chunk)
            try out.put([UInt8](repeating: 0, count: plan.padding[i]))
        }
        try out.commit()
    }

    // MARK: - Layout

    private struct Plan {
        var prefix: [UInt8]   // header, metadata, tensor infos, padding to the data section
        var sizes: [Int]      // bytes per tensor
        var padding: [Int]    // zero bytes after each tensor
        var dataByteCount: Int
    }

    private func check(_ count: Int, _ layout: TensorLayout, _ expected: Int, file: String) throws(WeightsError) {
        guard count == expected else {
            throw WeightsError.writeFailed(file: file, reason: "tensor '\(layout.name)' has \(count) bytes but its type \(layout.type) and dimensions \(layout.dimensions) need \(expected)")
        }
    }

    private func makePlan(file: String) throws(WeightsError) -> Plan {
        func fail(_ reason: String) -> WeightsError { .writeFailed(file: file, reason: reason) }
        guard version == 2 || version == 3 else { throw fail("GGUF version \(version) cannot be written (2 or 3)") }
        guard alignment > 0, alignment <= GGUFFile.maxAlignment, alignment & (alignment - 1) == 0 else {
            throw fail("alignment \(alignment) is not a power of two between 1 and \(GGUFFile.maxAlignment)")
        }
        var entries = metadata
        if let i = entries.firstIndex(where: { $0.key == "general.alignment" }) {
            guard entries[i].value.intValue == alignment else {
                throw fail("general.alignment \(entries[i].value.rendered) disagrees with the writer's alignment \(alignment)")
            }
        } else if alignment != GGUFFile.defaultAlignment {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }

        var out: [UInt8] = GGUFHeader.magic
        appendLE(UInt32(version), to: &out)
        appendLE(UInt64(tensors.count), to: &out)
        appendLE(UInt64(entries.count), to: &out)
        for (key, value) in entries {
            guard !key.isEmpty, key.utf8.count <= GGUFFile.maxNameBytes else {
                throw fail("metadata key '\(key.prefix(40))' is empty or longer than \(GGUFFile.maxNameBytes) bytes")
            }
            Self.appendString(key, to: &out)
            appendLE(value.type.rawValue, to: &out)
            try Self.appendValue(value, key: key, depth: 0, to: &out, fail: fail)
        }

        var names = Set<String>()
        var sizes: [Int] = []
        var padding: [Int] = []
        var offset = 0
        for t in tensors {
            guard !t.name.isEmpty, t.name.utf8.count <= GGUFFile.maxNameBytes else {
                throw fail("tensor name '\(t.name.prefix(40))' is empty or longer than \(GGUFFile.maxNameBytes) bytes")
            }
            guard names.insert(t.name).inserted else { throw fail("tensor '\(t.name)' was added twice") }
            guard !t.type.isRemoved else { throw fail("tensor '\(t.name)' has type \(t.type), which GGML no longer defines") }
            guard (1...GGUFFile.maxDimensions).contains(t.dimensions.count), t.dimensions.allSatisfy({ $0 >= 1 }) else {
                throw fail("tensor '\(t.name)' dimensions \(t.dimensions) must be 1 to \(GGUFFile.maxDimensions) values ≥ 1")
            }
            guard t.dimensions[0] % t.type.blockElements == 0 else {
                throw fail("tensor '\(t.name)' of type \(t.type) has \(t.dimensions[0]) elements per row, not a multiple of the block size \(t.type.blockElements)")
            }
            var elements = 1
            for d in t.dimensions {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw fail("tensor '\(t.name)' dimensions \(t.dimensions) overflow") }
                elements = p
            }
            guard let size = t.type.byteCount(elements: elements), case let (end, o) = offset.addingReportingOverflow(size),
                  !o, let padded = alignUp(end, alignment) else {
                throw fail("tensor '\(t.name)' is too large to lay out")
            }
            Self.appendString(t.name, to: &out)
            appendLE(UInt32(t.dimensions.count), to: &out)
            for d in t.dimensions { appendLE(UInt64(d), to: &out) }
            appendLE(UInt32(t.type.id), to: &out)
            appendLE(UInt64(offset), to: &out)
            sizes.append(size)
            padding.append(padded - end)
            offset = padded
        }
        let dataStart = alignUp(out.count, alignment) ?? out.count
        if !tensors.isEmpty { out.append(contentsOf: repeatElement(0, count: dataStart - out.count)) }
        return Plan(prefix: out, sizes: sizes, padding: padding, dataByteCount: offset)
    }

    private static func appendString(_ s: String, to out: inout [UInt8]) {
        appendLE(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: s.utf8)
    }

    private static func appendValue(_ value: GGUFValue, key: String, depth: Int, to out: inout [UInt8],
                                    fail: (String) -> WeightsError) throws(WeightsError) {
        switch value {
        case .uint8(let v): out.append(v)
        case .int8(let v): out.append(UInt8(bitPattern: v))
        case .uint16(let v): appendLE(v, to: &out)
        case .int16(let v): appendLE(v, to: &out)
        case .uint32(let v): appendLE(v, to: &out)
        case .int32(let v): appendLE(v, to: &out)
        case .uint64(let v): appendLE(v, to: &out)
        case .int64(let v): appendLE(v, to: &out)
        case .float32(let v): appendLE(v.bitPattern, to: &out)
        case .float64(let v): appendLE(v.bitPattern, to: &out)
        case .bool(let b): out.append(b ? 1 : 0)
        case .string(let s):
            guard s.utf8.count <= GGUFFile.maxStringBytes else {
                throw fail("metadata '\(key)' string of \(s.utf8.count) bytes exceeds the limit of \(GGUFFile.maxStringBytes)")
            }
            appendString(s, to: &out)
        case .array(let elementType, let values):
            guard depth < GGUFFile.maxArrayDepth else {
                throw fail("metadata '\(key)' nests arrays more than \(GGUFFile.maxArrayDepth) levels deep")
            }
            guard values.count <= GGUFFile.maxArrayElements else {
                throw fail("metadata '\(key)' array of \(values.count) elements exceeds the limit of \(GGUFFile.maxArrayElements)")
            }
            appendLE(elementType.rawValue, to: &out)
            appendLE(UInt64(values.count), to: &out)
            for (i, v) in values.enumerated() {
                guard v.type == elementType else {
                    throw fail("metadata '\(key)' is an array of \(elementType) but element \(i) is \(v.typeName)")
                }
                try appendValue(v, key: key, depth: depth + 1, to: &out, fail: fail)
            }
        }
    }
}
