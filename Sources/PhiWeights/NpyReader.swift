import PhiJSON
import Foundation
import PhiKernels
import PhiTensor

/// A float array read from a .npy file, C order.
public struct NpyArray: Sendable, Equatable {
    public let shape: [Int]
    public let values: [Float]
    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// Reads NumPy .npy files of little-endian floats ('<f4'; '<f2' and '<f8' are converted to
/// Float), C order, versions 1.0–3.0. Every length is checked against the file size first.
public enum NpyReader {
    /// Headers beyond this are rejected; NumPy itself refuses headers over 10 KB by default.
    public static let maxHeaderBytes = 1 << 20

    public static func read(path: String) throws(WeightsError) -> NpyArray {
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: path)
        } catch {
            throw WeightsError.io(file: path, reason: "cannot read: \(error)")
        }
        return try decode(mapping.bytes(offset: 0, count: mapping.byteCount), file: path)
    }

    public static func decode(_ bytes: [UInt8], file: String = "(memory)") throws(WeightsError) -> NpyArray {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WeightsError) -> NpyArray in try decode(raw, file: file) }
        }
        return try result.get()
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws(WeightsError) -> NpyArray {
        func invalid(_ reason: String) -> WeightsError { .invalidNpy(file: file, reason: reason) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, (0..<6).allSatisfy({ bytes[$0] == magic[$0] }) else {
            throw invalid("not a .npy file (missing \\x93NUMPY magic)")
        }
        let major = bytes[6]
        var headerLength = 0
        let prefix: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            prefix = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw invalid("file ends inside the header length") }
            for i in 0..<4 { headerLength |= Int(bytes[8 + i]) << (8 * i) }
            prefix = 12
        default:
            throw invalid("unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerLength <= maxHeaderBytes else {
            throw invalid("header length \(headerLength) exceeds the \(maxHeaderBytes)-byte limit")
        }
        guard headerLength <= bytes.count - prefix else {
            throw invalid("header length \(headerLength) runs past the end of the file")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[prefix..<(prefix + headerLength)])
        guard JSONText.firstInvalidUTF8Offset(headerBytes) == nil else { throw invalid("header is not valid text") }
        let header = String(decoding: headerBytes, as: UTF8.self)
        var parser = NpyHeaderParser(text: Array(header.unicodeScalars))
        let dict: [String: NpyHeaderParser.Value]
        do {
            dict = try parser.parseDict()
        } catch {
            throw invalid("malformed header \(JSONText.quote(String(header.prefix(120)))): \(error.message)")
        }
        guard case .string(let descr)? = dict["descr"] else { throw invalid("header has no 'descr' string") }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw invalid("header has no 'fortran_order' flag") }
        guard case .tuple(let shape)? = dict["shape"] else { throw invalid("header has no 'shape' tuple") }
        guard !fortran else { throw invalid("Fortran-order arrays are not supported; save with C order") }
        let itemSize: Int
        switch descr {
        case "<f4": itemSize = 4
        case "<f2": itemSize = 2
        case "<f8": itemSize = 8
        default: throw invalid("unsupported dtype '\(descr)' (expected little-endian float: '<f4', '<f2' or '<f8')")
        }
        var count = 1
        for d in shape {
            guard d >= 0 else { throw invalid("shape \(shape) has a negative dimension") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw invalid("shape \(shape) overflows") }
            count = p
        }
        let (dataBytes, o) = count.multipliedReportingOverflow(by: itemSize)
        let available = bytes.count - prefix - headerLength
        guard !o, dataBytes == available else {
            throw invalid("shape \(shape) of '\(descr)' needs \(o ? "too many" : String(dataBytes)) data bytes but the file has \(available)")
        }
        let start = prefix + headerLength
        guard count > 0, let base = bytes.baseAddress else { return NpyArray(shape: shape, values: []) }
        let data = base + start
        let values = [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            for i in 0..<count {
                switch itemSize {
                case 4: buf[i] = Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case 2: buf[i] = Convert.f16ToF32(UInt16(littleEndian: data.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                default: buf[i] = Float(Double(bitPattern: UInt64(littleEndian: data.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                }
            }
            initialized = count
        }
        return NpyArray(shape: shape, values: values)
    }
}

/// Parses the Python dict literal of an npy header: string keys; values that are strings,
/// True/False, or tuples of integers.
private struct NpyHeaderParser {
    enum Value { case string(String), bool(Bool), tuple([Int]) }
    struct Failure: Error { let message: String }

    let text: [Unicode.Scalar]
    var pos = 0

    init(text: [Unicode.Scalar]) { self.text = text }

    mutating func skipSpace() {
        while pos < text.count, text[pos] == " " || text[pos] == "\n" || text[pos] == "\t" || text[pos] == "\r" { pos += 1 }
    }

    mutating func expect(_ c: Unicode.Scalar) throws(Failure) {
        skipSpace()
        guard pos < text.count, text[pos] == c else { throw Failure(message: "expected '\(c)' at character \(pos)") }
        pos += 1
    }

    func peek() -> Unicode.Scalar? { pos < text.count ? text[pos] : nil }

    mutating func parseDict() throws(Failure) -> [String: Value] {
        try expect("{")
        var out: [String: Value] = [:]
        while true {
            skipSpace()
            if peek() == "}" { pos += 1; break }
            let key = try parseString()
            guard out[key] == nil else { throw Failure(message: "duplicate key '\(key)'") }
            try expect(":")
            out[key] = try parseValue()
            skipSpace()
            if peek() == "," { pos += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        guard pos == text.count else { throw Failure(message: "unexpected text after the dict") }
        return out
    }

    mutating func parseString() throws(Failure) -> String {
        skipSpace()
        guard let q = peek(), q == "'" || q == "\"" else { throw Failure(message: "expected a quoted string at character \(pos)") }
        pos += 1
        var s = String.UnicodeScalarView()
        while let c = peek(), c != q {
            guard c != "\\" else { throw Failure(message: "escapes are not supported in header strings") }
            s.append(c)
            pos += 1
        }
        guard peek() == q else { throw Failure(message: "unterminated string") }
        pos += 1
        return String(s)
    }

    mutating func parseValue() throws(Failure) -> Value {
        skipSpace()
        guard let c = peek() else { throw Failure(message: "unexpected end of header") }
        if c == "'" || c == "\"" { return .string(try parseString()) }
        if c == "(" { return .tuple(try parseTuple()) }
        for (word, value) in [("True", true), ("False", false)] {
            let scalars = Array(word.unicodeScalars)
            if text.count - pos >= scalars.count, Array(text[pos..<(pos + scalars.count)]) == scalars {
                pos += scalars.count
                return .bool(value)
            }
        }
        throw Failure(message: "unsupported value at character \(pos)")
    }

    mutating func parseTuple() throws(Failure) -> [Int] {
        try expect("(")
        var items: [Int] = []
        while true {
            skipSpace()
            if peek() == ")" { pos += 1; return items }
            var digits = ""
            while let c = peek(), c.properties.numericType == .decimal, c.isASCII {
                digits.unicodeScalars.append(c)
                pos += 1
            }
            // Python 2 era files write long integers with an 'L' suffix.
            if peek() == "L" { pos += 1 }
            guard !digits.isEmpty, let v = JSONNumber.integer(fromLiteral: digits) else {
                throw Failure(message: "expected a non-negative integer in the shape at character \(pos)")
            }
            items.append(v)
            skipSpace()
            if peek() == "," { pos += 1; continue }
            try expect(")")
            return items
        }
    }
}
