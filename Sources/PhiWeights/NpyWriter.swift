#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes NumPy .npy files of float32, little-endian ('<f4'), C order: the format reference
/// activations are exchanged in. Version 1.0 is used unless the header needs more than 64 KiB.
///
/// Per the npy spec, the magic string, version, header length and header together take a
/// multiple of 64 bytes; the header is padded with spaces and ends in a newline.
public enum NpyWriter {
    public static func encode(shape: [Int], values: [Float]) throws(WeightsError) -> [UInt8] {
        try encode(shape: shape, values: values, file: "(memory)")
    }

    public static func write(path: String, shape: [Int], values: [Float]) throws(WeightsError) {
        let bytes = try encode(shape: shape, values: values, file: path)
        guard let fp = fopen(path, "wb") else {
            throw WeightsError.writeFailed(file: path, reason: "cannot create: \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, fp) }
        let closed = fclose(fp)
        guard written == bytes.count, closed == 0 else {
            throw WeightsError.writeFailed(file: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    private static func encode(shape: [Int], values: [Float], file: String) throws(WeightsError) -> [UInt8] {
        var count = 1
        for d in shape {
            guard d >= 0 else { throw WeightsError.writeFailed(file: file, reason: "shape \(shape) has a negative dimension") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw WeightsError.writeFailed(file: file, reason: "shape \(shape) overflows") }
            count = p
        }
        guard count == values.count else {
            throw WeightsError.writeFailed(file: file, reason: "shape \(shape) needs \(count) values but \(values.count) were given")
        }
        // Python tuple syntax: (), (n,), (a, b)
        let tuple: String
        switch shape.count {
        case 0: tuple = "()"
        case 1: tuple = "(\(shape[0]),)"
        default: tuple = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(tuple), }".utf8)
        // Version 1.0 has a 2-byte header length, 2.0 a 4-byte one; prefix = 6 magic + 2 version + length.
        var prefixCount = 10
        var major: UInt8 = 1
        if pad(dict.count + 1, prefix: prefixCount) > Int(UInt16.max) {
            prefixCount = 12
            major = 2
        }
        let headerLength = pad(dict.count + 1, prefix: prefixCount)
        dict.append(contentsOf: repeatElement(UInt8(ascii: " "), count: headerLength - dict.count - 1))
        dict.append(UInt8(ascii: "\n"))

        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
        if major == 1 {
            appendLE(UInt16(headerLength), to: &out)
        } else {
            appendLE(UInt32(headerLength), to: &out)
        }
        out.append(contentsOf: dict)
        out.reserveCapacity(out.count + values.count * 4)
        for v in values { appendLE(v.bitPattern, to: &out) }
        return out
    }

    /// Smallest length ≥ `minimum` such that prefix + length is a multiple of 64.
    private static func pad(_ minimum: Int, prefix: Int) -> Int {
        let total = prefix + minimum
        return minimum + (64 - total % 64) % 64
    }
}
