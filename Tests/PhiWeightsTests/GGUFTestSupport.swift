import Foundation
import PhiTensor
import XCTest
@testable import PhiWeights

/// Byte-level GGUF builder for tests: every field can be set to any value, so corrupt files can be made that
/// `GGUFWriter` refuses to write.
struct RawGGUF {
    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    /// Overrides for the counts in the header (default: the number of entries added).
    var tensorCount: UInt64?
    var kvCount: UInt64?
    var kvs: [[UInt8]] = []
    var infos: [[UInt8]] = []
    /// Alignment used to pad to the data section (does not write general.alignment).
    var alignment = 32
    var data: [UInt8] = []

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    static func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    /// A metadata entry with a raw type tag and payload.
    mutating func kv(_ key: String, type: UInt32, payload: [UInt8]) {
        kvs.append(Self.string(key) + Self.le(type) + payload)
    }

    mutating func kv(_ key: String, _ value: GGUFValue) {
        kv(key, type: value.type.rawValue, payload: Self.payload(value))
    }

    static func payload(_ value: GGUFValue) -> [UInt8] {
        switch value {
        case .uint8(let v): return [v]
        case .int8(let v): return [UInt8(bitPattern: v)]
        case .uint16(let v): return le(v)
        case .int16(let v): return le(v)
        case .uint32(let v): return le(v)
        case .int32(let v): return le(v)
        case .uint64(let v): return le(v)
        case .int64(let v): return le(v)
        case .float32(let v): return le(v.bitPattern)
        case .float64(let v): return le(v.bitPattern)
        case .bool(let b): return [b ? 1 : 0]
        case .string(let s): return string(s)
        case .array(let t, let values): return le(t.rawValue) + le(UInt64(values.count)) + values.flatMap(payload)
        }
    }

    /// A tensor info; `dims` in GGUF order.
    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32 = 0, offset: UInt64, nDims: UInt32? = nil) {
        infos.append(Self.string(name) + Self.le(nDims ?? UInt32(dims.count)) + dims.flatMap { Self.le($0) }
                     + Self.le(type) + Self.le(offset))
    }

    /// Header, metadata, infos, padding to the alignment, data.
    func bytes() -> [UInt8] {
        var out = magic + Self.le(version) + Self.le(tensorCount ?? UInt64(infos.count)) + Self.le(kvCount ?? UInt64(kvs.count))
        for k in kvs { out += k }
        for i in infos { out += i }
        let pad = (alignment - out.count % alignment) % alignment
        out += [UInt8](repeating: 0, count: pad)
        return out + data
    }

    /// Offset where the data section starts in `bytes()`.
    var dataOffset: Int { bytes().count - data.count }
}

/// Raw block bytes: byte k is (k * 31 + seed) mod 251 (the formula tools/gguf/make_gguf_py_fixture.py uses).
func patternBytes(_ n: Int, seed: Int) -> [UInt8] {
    (0..<n).map { UInt8((($0 * 31) + seed) % 251) }
}

extension TempDirTestCase {
    @discardableResult
    func writeGGUF(_ writer: GGUFWriter, name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try writer.write(to: url)
        return url
    }

    /// Opening the GGUF file must fail with a message naming the file and containing every fragment.
    func assertInvalidGGUF(_ bytes: [UInt8], name: String, _ fragments: String...,
                           file: StaticString = #filePath, line: UInt = #line) {
        do {
            let url = try writeBytes(bytes, name: name)
            assertWeightsError([name] + fragments, file: file, line: line) { _ = try GGUFFile(url: url) }
        } catch {
            XCTFail("could not write \(name): \(error)", file: file, line: line)
        }
    }
}
