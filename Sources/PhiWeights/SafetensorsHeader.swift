import PhiJSON

/// The validated header of a safetensors file.
///
/// Layout: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON (starting with '{',
/// possibly padded with trailing spaces), then the data section. Every count, length and offset
/// is checked with overflow-reporting arithmetic against the real file size before anything is
/// allocated from it, and the tensors must tile the data section exactly: no overlaps, no gaps,
/// full coverage (the rules of the reference implementation, huggingface/safetensors).
struct SafetensorsHeader {
    static let maxHeaderBytes = 100_000_000

    let headerByteCount: Int
    let dataByteCount: Int
    let metadata: [String: String]
    let entries: [String: SafetensorsEntry]

    /// Parses and validates `file`, the whole file's bytes; `path` is only used in messages.
    static func parse(_ file: UnsafeRawBufferPointer, path: String) throws(WeightsError) -> SafetensorsHeader {
        func invalid(_ reason: String) -> WeightsError { .invalidFile(file: path, reason: reason) }

        let fileSize = file.count
        guard fileSize >= 8 else {
            throw invalid("file is \(fileSize) bytes, too short for the 8-byte header length")
        }
        var n64: UInt64 = 0
        for i in 0..<8 { n64 |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard n64 <= UInt64(maxHeaderBytes) else {
            throw invalid("header length \(n64) exceeds the limit of \(maxHeaderBytes) bytes")
        }
        let n = Int(n64)
        guard n <= fileSize - 8 else {
            throw invalid("header length \(n) runs past the end of the file (\(fileSize - 8) bytes follow the length field)")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<(8 + n)])
        guard n > 0 else { throw invalid("header is empty (length 0)") }
        guard headerBytes[0] == UInt8(ascii: "{") else {
            throw invalid("header does not start with '{'")
        }
        if let bad = JSONText.firstInvalidUTF8Offset(headerBytes) {
            throw invalid("header is not valid UTF-8 (byte \(bad) of the header)")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(headerBytes, limits: .init(maxDepth: 16, maxBytes: maxHeaderBytes, allowsByteOrderMark: false))
        } catch {
            throw invalid("header is not valid JSON: \(error.description)")
        }
        guard let object = root.objectValue else { throw invalid("header is not a JSON object") }

        let dataSize = fileSize - 8 - n
        var metadata: [String: String] = [:]
        var entries: [String: SafetensorsEntry] = [:]
        entries.reserveCapacity(object.count)
        for key in object.keys {
            guard let value = object[key] else { continue }
            if key == "__metadata__" {
                metadata = try parseMetadata(value, invalid: invalid)
            } else {
                entries[key] = try parseEntry(name: key, value, dataSize: dataSize, invalid: invalid)
            }
        }
        try checkTiling(entries, dataSize: dataSize, invalid: invalid)
        return SafetensorsHeader(headerByteCount: n, dataByteCount: dataSize, metadata: metadata, entries: entries)
    }

    private static func parseMetadata(
        _ value: JSONValue, invalid: (String) -> WeightsError
    ) throws(WeightsError) -> [String: String] {
        guard let object = value.objectValue else {
            throw invalid("__metadata__ is \(value.kindName), not an object of strings")
        }
        var out: [String: String] = [:]
        for key in object.keys {
            guard let s = object[key]?.stringValue else {
                throw invalid("__metadata__ value for '\(key)' is \(object[key]?.kindName ?? "missing"), not a string")
            }
            out[key] = s
        }
        return out
    }

    private static func parseEntry(
        name: String, _ value: JSONValue, dataSize: Int, invalid: (String) -> WeightsError
    ) throws(WeightsError) -> SafetensorsEntry {
        guard let object = value.objectValue else {
            throw invalid("tensor '\(name)' is described by \(value.kindName), not an object")
        }
        for key in object.keys where key != "dtype" && key != "shape" && key != "data_offsets" {
            throw invalid("tensor '\(name)' has unknown field '\(key)'")
        }
        // dtype
        guard let dtypeValue = object["dtype"] else { throw invalid("tensor '\(name)' has no dtype") }
        guard let dtype = dtypeValue.stringValue else {
            throw invalid("tensor '\(name)' dtype is \(dtypeValue.kindName), not a string")
        }
        guard SafetensorsDTypes.bitSizes[dtype] != nil else {
            throw invalid("tensor '\(name)' has unknown dtype \(JSONText.quote(dtype))")
        }
        // shape
        guard let shapeValue = object["shape"] else { throw invalid("tensor '\(name)' has no shape") }
        guard let dims = shapeValue.arrayValue else {
            throw invalid("tensor '\(name)' shape is \(shapeValue.kindName), not an array")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var elements = 1
        var overflowed = false
        for (i, d) in dims.enumerated() {
            guard let v = d.intValue, v >= 0 else {
                throw invalid("tensor '\(name)' shape entry \(i) is \(Self.render(d)), not a non-negative integer")
            }
            shape.append(v)
            let (p, o) = elements.multipliedReportingOverflow(by: v)
            overflowed = overflowed || o
            elements = p
        }
        // A zero dimension makes the product 0 even if an earlier partial product overflowed;
        // such a shape is still nonsense, so reject it too.
        guard !overflowed else { throw invalid("tensor '\(name)' shape \(shape) has more elements than can be addressed") }
        guard let expectedBytes = SafetensorsDTypes.byteCount(dtype: dtype, count: elements) else {
            throw invalid("tensor '\(name)' shape \(shape) of \(dtype) does not fit a whole, addressable number of bytes")
        }
        // data_offsets
        guard let offsetsValue = object["data_offsets"] else { throw invalid("tensor '\(name)' has no data_offsets") }
        guard let offsets = offsetsValue.arrayValue, offsets.count == 2 else {
            throw invalid("tensor '\(name)' data_offsets is \(Self.render(offsetsValue)), not a pair [begin, end]")
        }
        guard let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= 0 else {
            throw invalid("tensor '\(name)' data_offsets \(Self.render(offsetsValue)) are not non-negative integers")
        }
        guard begin <= end else {
            throw invalid("tensor '\(name)' data_offsets [\(begin), \(end)] are reversed")
        }
        guard end <= dataSize else {
            throw invalid("tensor '\(name)' data_offsets [\(begin), \(end)] run past the end of the \(dataSize)-byte data section")
        }
        guard end - begin == expectedBytes else {
            throw invalid("tensor '\(name)' is \(dtype) \(shape) = \(expectedBytes) bytes but data_offsets [\(begin), \(end)] span \(end - begin) bytes")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The tensors, sorted by offset, must tile [0, dataSize) exactly.
    private static func checkTiling(
        _ entries: [String: SafetensorsEntry], dataSize: Int, invalid: (String) -> WeightsError
    ) throws(WeightsError) {
        let sorted = entries.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: SafetensorsEntry?
        for e in sorted {
            if e.begin < covered, let p = previous {
                throw invalid("tensor '\(e.name)' data_offsets [\(e.begin), \(e.end)] overlap tensor '\(p.name)' [\(p.begin), \(p.end)]")
            }
            if e.begin > covered {
                throw invalid("data bytes [\(covered), \(e.begin)) before tensor '\(e.name)' belong to no tensor (gap)")
            }
            covered = e.end
            previous = e
        }
        guard covered == dataSize else {
            throw invalid("tensors cover \(covered) of the \(dataSize) data bytes; bytes [\(covered), \(dataSize)) belong to no tensor")
        }
    }

    /// A compact rendering of a JSON value for error messages.
    static func render(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let t): return t
        case .string(let s): return JSONText.quote(String(s.prefix(40)))
        case .array(let a): return "[" + a.prefix(8).map(render).joined(separator: ", ") + (a.count > 8 ? ", ..." : "") + "]"
        case .object: return "an object"
        }
    }
}
