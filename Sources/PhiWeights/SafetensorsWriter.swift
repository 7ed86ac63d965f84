#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PhiJSON
import PhiTensor

/// Writes .safetensors files that `SafetensorsFile` (and the reference implementation) accept.
///
/// Header keys are sorted by name, so output is deterministic. Data is laid out by descending
/// element size, then name (as the reference writer does), and the header is padded with spaces
/// to a multiple of 8 bytes: together these put every tensor at an offset aligned to its
/// element size. Files are written to a temporary name and renamed into place.
public enum SafetensorsWriter {
    /// One tensor to write: a safetensors dtype string, a shape and the raw little-endian bytes.
    public struct Item: Sendable, Equatable {
        public let dtype: String
        public let shape: [Int]
        public let bytes: [UInt8]

        public init(dtype: String, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public static func f32(shape: [Int], values: [Float]) -> Item {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * 4)
            for v in values { appendLE(v.bitPattern, to: &bytes) }
            return Item(dtype: DType.f32.rawValue, shape: shape, bytes: bytes)
        }

        /// Converts to bfloat16 with round-to-nearest-even, as PyTorch does.
        public static func bf16(shape: [Int], values: [Float]) -> Item {
            bf16(shape: shape, bits: values.map(Convert.f32ToBF16))
        }

        public static func bf16(shape: [Int], bits: [UInt16]) -> Item {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(bits.count * 2)
            for b in bits { appendLE(b, to: &bytes) }
            return Item(dtype: DType.bf16.rawValue, shape: shape, bytes: bytes)
        }

        /// Converts to IEEE half with round-to-nearest-even.
        public static func f16(shape: [Int], values: [Float]) -> Item {
            f16(shape: shape, bits: values.map(SafetensorsWriter.f32ToF16))
        }

        public static func f16(shape: [Int], bits: [UInt16]) -> Item {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(bits.count * 2)
            for b in bits { appendLE(b, to: &bytes) }
            return Item(dtype: DType.f16.rawValue, shape: shape, bytes: bytes)
        }
    }

    /// Shape and dtype of a tensor whose bytes are produced on demand by the streaming writer.
    public struct Layout: Sendable, Equatable {
        public let dtype: String
        public let shape: [Int]
        public init(dtype: String, shape: [Int]) {
            self.dtype = dtype
            self.shape = shape
        }
    }

    /// The complete file as bytes (for tests and small files).
    public static func encode(_ tensors: [String: Item], metadata: [String: String] = [:]) throws(WeightsError) -> [UInt8] {
        let plan = try makePlan(tensors.mapValues { Layout(dtype: $0.dtype, shape: $0.shape) }, metadata: metadata, file: "(memory)")
        var out = plan.prefix
        out.reserveCapacity(plan.prefix.count + plan.dataByteCount)
        for (name, _) in plan.order {
            guard let item = tensors[name] else { continue }
            try checkLength(item.bytes.count, name: name, plan: plan, file: "(memory)")
            out.append(contentsOf: item.bytes)
        }
        return out
    }

    public static func write(_ tensors: [String: Item], metadata: [String: String] = [:], to url: URL) throws(WeightsError) {
        try write(layouts: tensors.mapValues { Layout(dtype: $0.dtype, shape: $0.shape) }, metadata: metadata, to: url) { name in
            tensors[name]?.bytes ?? []
        }
    }

    /// Streams a file: `bytes` is called once per tensor, in layout order, so a converter never
    /// holds more than one tensor's output in memory.
    public static func write(
        layouts: [String: Layout], metadata: [String: String] = [:], to url: URL,
        bytes: (String) throws -> [UInt8]
    ) throws(WeightsError) {
        let path = url.path
        let plan = try makePlan(layouts, metadata: metadata, file: path)
        let out = try AtomicFileWriter(path: path)
        try out.put(plan.prefix)
        for (name, _) in plan.order {
            let chunk = try out.produce(name) { try bytes(name) }
            try checkLength(chunk.count, name: name, plan: plan, file: path)
            try out.put(chunk)
        }
        try out.commit()
    }

    /// IEEE binary32 → binary16 bits, round-to-nearest-even, overflow to infinity, NaN kept quiet.
    public static func f32ToF16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exp = Int((bits >> 23) & 0xFF)
        var mant = bits & 0x7F_FFFF
        if exp == 0xFF {
            return sign | 0x7C00 | (mant != 0 ? 0x200 | UInt16(truncatingIfNeeded: mant >> 13) : 0)
        }
        let e = exp - 127 + 15
        if e >= 31 { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            var h = mant >> shift
            let rem = mant & ((1 << shift) - 1)
            let half: UInt32 = 1 << (shift - 1)
            if rem > half || (rem == half && (h & 1) == 1) { h += 1 }
            return sign | UInt16(truncatingIfNeeded: h)
        }
        var h = UInt32(e << 10) | (mant >> 13)
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1) { h += 1 }
        if h >= 0x7C00 { return sign | 0x7C00 }
        return sign | UInt16(truncatingIfNeeded: h)
    }

    // MARK: - Layout

    private struct Plan {
        var prefix: [UInt8] // length field + padded header
        var order: [(String, Int)] // name, byte count, in data order
        var sizes: [String: Int]
        var dataByteCount: Int
    }

    private static func checkLength(_ count: Int, name: String, plan: Plan, file: String) throws(WeightsError) {
        guard let expected = plan.sizes[name], expected == count else {
            throw WeightsError.writeFailed(file: file, reason: "tensor '\(name)' has \(count) bytes but its dtype and shape need \(plan.sizes[name] ?? 0)")
        }
    }

    private static func makePlan(_ layouts: [String: Layout], metadata: [String: String], file: String) throws(WeightsError) -> Plan {
        var sizes: [String: Int] = [:]
        for (name, layout) in layouts {
            guard name != "__metadata__" else {
                throw WeightsError.writeFailed(file: file, reason: "'__metadata__' is reserved and cannot name a tensor")
            }
            guard SafetensorsDTypes.bitSizes[layout.dtype] != nil else {
                throw WeightsError.writeFailed(file: file, reason: "tensor '\(name)' has unknown dtype \(layout.dtype)")
            }
            var count = 1
            for d in layout.shape {
                guard d >= 0 else {
                    throw WeightsError.writeFailed(file: file, reason: "tensor '\(name)' has negative dimension in \(layout.shape)")
                }
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw WeightsError.writeFailed(file: file, reason: "tensor '\(name)' shape \(layout.shape) overflows") }
                count = p
            }
            guard let size = SafetensorsDTypes.byteCount(dtype: layout.dtype, count: count) else {
                throw WeightsError.writeFailed(file: file, reason: "tensor '\(name)' shape \(layout.shape) of \(layout.dtype) is not a whole number of bytes")
            }
            sizes[name] = size
        }
        let bitsOf = { (name: String) -> Int in layouts[name].flatMap { SafetensorsDTypes.bitSizes[$0.dtype] } ?? 0 }
        let dataOrder = layouts.keys.sorted { a, b in
            let (ba, bb) = (bitsOf(a), bitsOf(b))
            return ba != bb ? ba > bb : a < b
        }
        var offsets: [String: (Int, Int)] = [:]
        var order: [(String, Int)] = []
        var offset = 0
        for name in dataOrder {
            let size = sizes[name] ?? 0
            let (end, o) = offset.addingReportingOverflow(size)
            guard !o else { throw WeightsError.writeFailed(file: file, reason: "total data size overflows") }
            offsets[name] = (offset, end)
            order.append((name, size))
            offset = end
        }

        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.quote(metadata[$0] ?? ""))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        for name in layouts.keys.sorted() {
            guard let layout = layouts[name], let (begin, end) = offsets[name] else { continue }
            if !first { json += "," }
            first = false
            let shape = layout.shape.map(String.init).joined(separator: ",")
            json += "\(JSONText.quote(name)):{\"dtype\":\(JSONText.quote(layout.dtype)),\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}"
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        guard header.count <= SafetensorsHeader.maxHeaderBytes else {
            throw WeightsError.writeFailed(file: file, reason: "header of \(header.count) bytes exceeds the \(SafetensorsHeader.maxHeaderBytes)-byte limit")
        }
        var prefix: [UInt8] = []
        prefix.reserveCapacity(8 + header.count)
        appendLE(UInt64(header.count), to: &prefix)
        prefix.append(contentsOf: header)
        return Plan(prefix: prefix, order: order, sizes: sizes, dataByteCount: offset)
    }
}

@inline(__always)
func appendLE<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
}
