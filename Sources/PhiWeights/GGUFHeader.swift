import PhiJSON

/// The validated header of a GGUF file (versions 2 and 3, little-endian).
///
/// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count; metadata entries (string key, u32 value
/// type, value); tensor infos (string name, u32 n_dims, n_dims × u64 dims fastest-first, u32 ggml type, u64 offset
/// into the data section); padding to `general.alignment` (default 32); the data section.
///
/// Every count, length and offset is checked with overflow-reporting arithmetic against the bytes that remain
/// before anything is allocated from it. Tensors must sit at aligned offsets and tile the data section: sorted by
/// offset, each starts where the previous one ended, rounded up to the alignment (no overlaps, no gaps beyond
/// alignment padding, no trailing bytes beyond the last tensor's padding). That is the layout every GGUF writer
/// produces (llama.cpp's reader requires it too, in file order).
struct GGUFHeader {
    static let magic: [UInt8] = Array("GGUF".utf8)

    let version: Int
    let alignment: Int
    let metadataKeys: [String]
    let metadata: [String: GGUFValue]
    let tensorInfos: [GGUFTensorInfo]
    let tensorIndex: [String: Int]
    let dataOffset: Int
    let dataByteCount: Int

    /// Parses and validates `file`, the whole file's bytes; `path` is only used in messages.
    static func parse(_ file: UnsafeRawBufferPointer, path: String) throws(WeightsError) -> GGUFHeader {
        var r = GGUFCursor(bytes: file, path: path)
        let fileSize = file.count

        // Header.
        guard fileSize >= 4 else {
            throw r.invalid("file is \(fileSize) bytes, too short for the GGUF magic (truncated header)")
        }
        guard Array(file[0..<4]) == magic else {
            let shown = file[0..<4].map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "?" }.joined()
            throw r.invalid("not a GGUF file: the magic is '\(shown)', expected 'GGUF'")
        }
        r.offset = 4
        let version = try r.u32("the header (version)")
        if version != 0 && version & 0xFFFF == 0 {
            throw r.invalid("GGUF version field is \(version) (0x\(String(version, radix: 16))): this looks like a big-endian GGUF file, which is not supported")
        }
        guard version == 2 || version == 3 else {
            throw r.invalid("GGUF version \(version) is not supported (PhiKit reads versions 2 and 3)")
        }
        let tensorCount64 = try r.u64("the header (tensor count)")
        let kvCount64 = try r.u64("the header (metadata count)")
        guard tensorCount64 <= UInt64(GGUFFile.maxTensorCount) else {
            throw r.invalid("header declares \(tensorCount64) tensors, more than the limit of \(GGUFFile.maxTensorCount)")
        }
        guard kvCount64 <= UInt64(GGUFFile.maxMetadataCount) else {
            throw r.invalid("header declares \(kvCount64) metadata entries, more than the limit of \(GGUFFile.maxMetadataCount)")
        }
        let tensorCount = Int(tensorCount64), kvCount = Int(kvCount64)
        // Smallest possible entry: metadata 8 + 1 (key) + 4 (type) + 1; tensor info 8 + 1 + 4 + 8 + 4 + 8.
        guard kvCount * 14 + tensorCount * 33 <= r.remaining else {
            throw r.invalid("header declares \(kvCount) metadata entries and \(tensorCount) tensors, which cannot fit in the \(r.remaining) bytes that follow (truncated file?)")
        }

        // Metadata.
        var keys: [String] = []
        keys.reserveCapacity(kvCount)
        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            let key = try r.string("metadata entry \(i) (key)", maxBytes: GGUFFile.maxNameBytes)
            guard !key.isEmpty else { throw r.invalid("metadata entry \(i) has an empty key") }
            guard metadata[key] == nil else {
                throw r.invalid("metadata key '\(key)' appears more than once (again as entry \(i))")
            }
            let rawType = try r.u32("metadata '\(key)' (value type)")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw r.invalid("metadata '\(key)' has unknown value type \(rawType)")
            }
            metadata[key] = try r.value(type, key: key, depth: 0)
            keys.append(key)
        }

        let alignment = try Self.alignment(metadata["general.alignment"], r)

        // Tensor infos.
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(tensorCount)
        var index: [String: Int] = [:]
        index.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let name = try r.string("tensor info \(i) (name)", maxBytes: GGUFFile.maxNameBytes)
            guard !name.isEmpty else { throw r.invalid("tensor info \(i) has an empty name") }
            guard index[name] == nil else {
                throw r.invalid("tensor '\(name)' appears more than once (again as tensor info \(i))")
            }
            let nDims = try r.u32("tensor '\(name)' (dimension count)")
            guard nDims >= 1 && nDims <= UInt32(GGUFFile.maxDimensions) else {
                throw r.invalid("tensor '\(name)' has \(nDims) dimensions; GGUF allows 1 to \(GGUFFile.maxDimensions)")
            }
            var dims: [Int] = []
            dims.reserveCapacity(Int(nDims))
            var elements = 1
            for d in 0..<Int(nDims) {
                let v = try r.u64("tensor '\(name)' (dimension \(d))")
                guard v >= 1 else { throw r.invalid("tensor '\(name)' dimension \(d) is 0; every dimension must be at least 1") }
                guard v <= UInt64(Int64.max) else {
                    throw r.invalid("tensor '\(name)' dimension \(d) is \(v), which is not a valid element count")
                }
                dims.append(Int(v))
                let (p, o) = elements.multipliedReportingOverflow(by: Int(v))
                guard !o else {
                    throw r.invalid("tensor '\(name)' dimensions \(dims) have more elements than can be addressed")
                }
                elements = p
            }
            let typeID = try r.u32("tensor '\(name)' (type)")
            guard let type = GGMLType(id: Int(typeID)) else {
                throw r.invalid("tensor '\(name)' has unknown GGML type \(typeID)")
            }
            guard !type.isRemoved else {
                throw r.invalid("tensor '\(name)' has type \(type), which GGML no longer defines")
            }
            guard dims[0] % type.blockElements == 0 else {
                throw r.invalid("tensor '\(name)' of type \(type) has \(dims[0]) elements per row (ne[0]), not a multiple of the block size \(type.blockElements)")
            }
            guard let bytes = type.byteCount(elements: elements) else {
                throw r.invalid("tensor '\(name)' dimensions \(dims) of type \(type) have a byte size that cannot be addressed")
            }
            let offset64 = try r.u64("tensor '\(name)' (offset)")
            guard offset64 <= UInt64(Int.max) else {
                throw r.invalid("tensor '\(name)' offset \(offset64) is past the end of the file")
            }
            index[name] = infos.count
            infos.append(GGUFTensorInfo(name: name, type: type, dimensions: dims, offset: Int(offset64),
                                        byteCount: bytes, elementCount: elements, index: i))
        }

        // Data section: starts at the next multiple of the alignment.
        let infosEnd = r.offset
        guard let dataOffset = alignUp(infosEnd, alignment) else {
            throw r.invalid("data section offset overflows")
        }
        let dataSize: Int
        if dataOffset <= fileSize {
            dataSize = fileSize - dataOffset
        } else if tensorCount == 0 {
            dataSize = 0 // a file without tensors may end inside the padding
        } else {
            throw r.invalid("file ends before the data section (truncated): tensor data starts at byte \(dataOffset) but the file is \(fileSize) bytes")
        }
        try checkLayout(infos, dataSize: dataSize, alignment: alignment, r)

        return GGUFHeader(version: Int(version), alignment: alignment, metadataKeys: keys, metadata: metadata,
                          tensorInfos: infos, tensorIndex: index, dataOffset: dataOffset, dataByteCount: dataSize)
    }

    /// `general.alignment`: an integer power of two in 1...maxAlignment; 32 when absent.
    private static func alignment(_ value: GGUFValue?, _ r: GGUFCursor) throws(WeightsError) -> Int {
        guard let value else { return GGUFFile.defaultAlignment }
        guard value.isInteger else {
            throw r.invalid("general.alignment is \(value.typeName), not an integer")
        }
        guard let a = value.intValue, a > 0, a <= GGUFFile.maxAlignment, a & (a - 1) == 0 else {
            throw r.invalid("general.alignment \(value.rendered) is not a power of two between 1 and \(GGUFFile.maxAlignment)")
        }
        return a
    }

    /// Aligned offsets, in range, and tiling the data section (gaps only for alignment padding).
    private static func checkLayout(_ infos: [GGUFTensorInfo], dataSize: Int, alignment: Int,
                                    _ r: GGUFCursor) throws(WeightsError) {
        for t in infos {
            guard t.offset % alignment == 0 else {
                throw r.invalid("tensor '\(t.name)' offset \(t.offset) is not a multiple of the alignment \(alignment)")
            }
            let (end, o) = t.offset.addingReportingOverflow(t.byteCount)
            guard !o, end <= dataSize else {
                throw r.invalid("tensor '\(t.name)' bytes [\(t.offset), \(o ? "overflow" : String(end))) run past the end of the \(dataSize)-byte data section (truncated file?)")
            }
        }
        let sorted = infos.sorted { ($0.offset, $0.index) < ($1.offset, $1.index) }
        var covered = 0 // end of the previous tensor, rounded up to the alignment
        var previous: GGUFTensorInfo?
        for t in sorted {
            if let p = previous, t.offset < p.offset + p.byteCount {
                throw r.invalid("tensor '\(t.name)' bytes [\(t.offset), \(t.offset + t.byteCount)) overlap tensor '\(p.name)' [\(p.offset), \(p.offset + p.byteCount))")
            }
            if t.offset > covered {
                throw r.invalid("data bytes [\(covered), \(t.offset)) before tensor '\(t.name)' belong to no tensor (gap)")
            }
            // Offsets are at most dataSize (checked above), so these sums cannot overflow.
            covered = alignUp(t.offset + t.byteCount, alignment) ?? Int.max
            previous = t
        }
        guard dataSize <= covered else {
            throw r.invalid("data bytes [\(covered), \(dataSize)) after the last tensor belong to no tensor")
        }
    }
}

/// `value` rounded up to a multiple of `alignment` (a power of two), or nil on overflow.
func alignUp(_ value: Int, _ alignment: Int) -> Int? {
    let (sum, o) = value.addingReportingOverflow(alignment - 1)
    return o ? nil : sum & ~(alignment - 1)
}

/// Bounds-checked little-endian reads over the file's bytes; every failure names the file and what was being read.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0
    /// Metadata values (array elements included) that may still be read: bounds memory for the whole file.
    var valuesLeft = GGUFFile.maxMetadataValues

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    func invalid(_ reason: String) -> WeightsError { .invalidFile(file: path, reason: reason) }

    private func need(_ n: Int, _ what: () -> String) throws(WeightsError) {
        guard n <= remaining else {
            throw invalid("file ends inside \(what()) at byte \(offset): \(n) bytes needed, \(remaining) left (truncated file)")
        }
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: () -> String) throws(WeightsError) -> T {
        try need(MemoryLayout<T>.size, what)
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(WeightsError) -> UInt8 { try load(UInt8.self, what) }
    mutating func u16(_ what: @autoclosure () -> String) throws(WeightsError) -> UInt16 { try load(UInt16.self, what) }
    mutating func u32(_ what: @autoclosure () -> String) throws(WeightsError) -> UInt32 { try load(UInt32.self, what) }
    mutating func u64(_ what: @autoclosure () -> String) throws(WeightsError) -> UInt64 { try load(UInt64.self, what) }

    /// A u64 length, then that many bytes of UTF-8.
    mutating func string(_ what: @autoclosure () -> String, maxBytes: Int) throws(WeightsError) -> String {
        let n64 = try load(UInt64.self, what)
        guard n64 <= UInt64(maxBytes) else {
            throw invalid("\(what()) is a string of \(n64) bytes, more than the limit of \(maxBytes)")
        }
        let n = Int(n64)
        guard n <= remaining else {
            throw invalid("\(what()) is a string of \(n) bytes that runs past the end of the file (\(remaining) bytes left; truncated file?)")
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        if let bad = JSONText.firstInvalidUTF8Offset(raw) {
            throw invalid("\(what()) is not valid UTF-8 (byte \(bad) of the string)")
        }
        offset += n
        return String(decoding: raw, as: UTF8.self)
    }

    /// One value of `type`; arrays recurse up to `GGUFFile.maxArrayDepth` levels.
    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws(WeightsError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try u8("metadata '\(key)'"))
        case .int8: return .int8(Int8(bitPattern: try u8("metadata '\(key)'")))
        case .uint16: return .uint16(try u16("metadata '\(key)'"))
        case .int16: return .int16(Int16(bitPattern: try u16("metadata '\(key)'")))
        case .uint32: return .uint32(try u32("metadata '\(key)'"))
        case .int32: return .int32(Int32(bitPattern: try u32("metadata '\(key)'")))
        case .uint64: return .uint64(try u64("metadata '\(key)'"))
        case .int64: return .int64(Int64(bitPattern: try u64("metadata '\(key)'")))
        case .float32: return .float32(Float(bitPattern: try u32("metadata '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try u64("metadata '\(key)'")))
        case .bool:
            let b = try u8("metadata '\(key)'")
            guard b <= 1 else { throw invalid("metadata '\(key)' holds bool byte \(b), not 0 or 1") }
            return .bool(b == 1)
        case .string:
            return .string(try string("metadata '\(key)'", maxBytes: GGUFFile.maxStringBytes))
        case .array:
            guard depth < GGUFFile.maxArrayDepth else {
                throw invalid("metadata '\(key)' nests arrays more than \(GGUFFile.maxArrayDepth) levels deep")
            }
            let rawType = try u32("metadata '\(key)' (array element type)")
            guard let element = GGUFValueType(rawValue: rawType) else {
                throw invalid("metadata '\(key)' is an array of unknown value type \(rawType)")
            }
            let count64 = try u64("metadata '\(key)' (array length)")
            guard count64 <= UInt64(GGUFFile.maxArrayElements) else {
                throw invalid("metadata '\(key)' is an array of \(count64) elements, more than the limit of \(GGUFFile.maxArrayElements)")
            }
            let count = Int(count64)
            guard count <= valuesLeft else {
                throw invalid("metadata '\(key)' takes the metadata past the limit of \(GGUFFile.maxMetadataValues) values in total")
            }
            guard count * element.minimumSize <= remaining else {
                throw invalid("metadata '\(key)' is an array of \(count) × \(element), which needs at least \(count * element.minimumSize) bytes but only \(remaining) remain (truncated file?)")
            }
            valuesLeft -= count
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try value(element, key: key, depth: depth + 1)) }
            return .array(element, values)
        }
    }
}
