import Foundation
import PhiKernels
import PhiNN

/// The on-disk form of one prefix-cache state (little-endian throughout):
///
///     magic "PHIKVSP1" · version u32 · layers u32 · kvHeads u32 · headDim u32
///     tokenCount u64 · longFactors u8 · adapter u8 (0 none, n: the engine's adapter n) · hasConditioning u8 · 0 u8
///     mediaKey: byteCount u32 · UTF-8 bytes (byteCount 0xFFFF_FFFF: no key)
///     conditioning (when present): width u32 · positionCount u64 · positions u64… · rows f32…
///     tokens u64…
///     per layer: keys then values, each [tokenCount][kvHeads·headDim] f32
///     checksum u64 (FNV-1a over 8-byte words of everything before; the tail word zero-padded)
///
/// Every size read back is checked with overflow-reporting arithmetic against the file's real length, and the
/// checksum against the contents, so a truncated, corrupt or foreign file is refused (a cache miss), never a
/// crash or a wrong state.
enum PrefixSpillFile {
    static let magic = Array("PHIKVSP1".utf8)
    static let version: UInt32 = 1

    struct Header: Equatable {
        var layers: Int
        var kvHeads: Int
        var headDim: Int
        var tokens: [Int]
        var longFactors: Bool
        var adapter: Int
        var mediaKey: String?
    }

    struct Decoded {
        var header: Header
        var conditioning: (positions: [Int], rows: [Float], width: Int)?
        /// Byte offset of the first layer's keys in the file.
        var kvOffset: Int
    }

    enum Failure: Error { case corrupt(String) }

    /// The file's bytes for `cache` (all its positions) and its conditioning, or nil if the conditioning's
    /// adapter is not one the engine knows (`adapterCode` returned nil).
    static func encode(cache: KVCache, mediaKey: String?, conditioning: Conditioning?, adapterCode: Int) -> Data {
        var w = Writer()
        w.bytes(magic)
        w.u32(version)
        w.u32(UInt32(cache.layers)); w.u32(UInt32(cache.kvHeads)); w.u32(UInt32(cache.headDim))
        let T = cache.count
        w.u64(UInt64(T))
        w.bytes([cache.longFactors ? 1 : 0, UInt8(adapterCode), conditioning == nil ? 0 : 1, 0])
        if let key = mediaKey {
            let b = Array(key.utf8)
            w.u32(UInt32(b.count)); w.bytes(b)
        } else {
            w.u32(.max)
        }
        if let c = conditioning {
            w.u32(UInt32(c.width))
            w.u64(UInt64(c.positions.count))
            for p in c.positions { w.u64(UInt64(p)) }
            c.rows.withUnsafeBytes { w.raw($0) }
        }
        for t in cache.tokens { w.u64(UInt64(t)) }
        let width = cache.kvHeads * cache.headDim
        var row = [Float](repeating: 0, count: T * width)
        for l in 0..<cache.layers {
            // Keys are stored in blocks (see KVCache); the file holds [T][kvHeads·headDim].
            let cap = cache.capacity, hd = cache.headDim
            for h in 0..<cache.kvHeads {
                let kh = cache.keys(layer: l) + h * hd * cap
                for t in 0..<T {
                    for d in 0..<hd { row[t * width + h * hd + d] = kh[Kernels.keyOffset(dim: d, position: t, headDim: hd)] }
                }
            }
            row.withUnsafeBytes { w.raw($0) }
            let v = cache.values(layer: l)
            for h in 0..<cache.kvHeads {
                for t in 0..<T {
                    for d in 0..<hd { row[t * width + h * hd + d] = v[(h * cap + t) * hd + d] }
                }
            }
            row.withUnsafeBytes { w.raw($0) }
        }
        w.u64(checksum(w.data))
        return w.data
    }

    /// Reads and validates a file's header, conditioning and checksum (not yet the K/V values).
    static func decode(_ data: Data) throws -> Decoded {
        var r = Reader(data: data)
        guard data.count >= 16, try r.bytes(8) == magic else { throw Failure.corrupt("not a prefix-cache file") }
        guard try r.u32() == version else { throw Failure.corrupt("unknown version") }
        let layers = try r.int32(), kvHeads = try r.int32(), headDim = try r.int32()
        let T = try r.int64()
        let flags = try r.bytes(4)
        guard flags[0] <= 1, flags[2] <= 1 else { throw Failure.corrupt("bad flags") }
        var mediaKey: String?
        let keyLength = try r.u32()
        if keyLength != .max {
            guard let s = String(bytes: try r.bytes(Int(keyLength)), encoding: .utf8) else { throw Failure.corrupt("bad media key") }
            mediaKey = s
        }
        var conditioning: (positions: [Int], rows: [Float], width: Int)?
        if flags[2] == 1 {
            let width = try r.int32(), n = try r.int64()
            guard width > 0 else { throw Failure.corrupt("bad conditioning width") }
            var positions: [Int] = []
            for _ in 0..<min(n, r.remaining / 8) { positions.append(try r.int64()) }
            guard positions.count == n else { throw Failure.corrupt("truncated") }
            let count = try product(n, width)
            let rows = try r.floats(count)
            conditioning = (positions, rows, width)
        }
        var tokens: [Int] = []
        tokens.reserveCapacity(min(T, r.remaining / 8))
        for _ in 0..<min(T, r.remaining / 8) { tokens.append(try r.int64()) }
        guard tokens.count == T else { throw Failure.corrupt("truncated") }
        let kvOffset = r.offset
        // layers · 2 · T · kvHeads · headDim floats, then the checksum.
        let kvBytes = try product(product(product(product(product(layers, 2), T), kvHeads), headDim), 4)
        let (end, o1) = kvOffset.addingReportingOverflow(kvBytes)
        let (total, o2) = end.addingReportingOverflow(8)
        guard !o1, !o2, total == data.count else { throw Failure.corrupt("the sizes do not add up to the file's length") }
        let stored = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: end, as: UInt64.self) }
        guard UInt64(littleEndian: stored) == checksum(data.prefix(end)) else { throw Failure.corrupt("checksum mismatch") }
        let header = Header(layers: layers, kvHeads: kvHeads, headDim: headDim, tokens: tokens,
                            longFactors: flags[0] == 1, adapter: Int(flags[1]), mediaKey: mediaKey)
        return Decoded(header: header, conditioning: conditioning, kvOffset: kvOffset)
    }

    /// A cache holding the first `length` positions of a decoded file, with room for `maxLength`.
    static func restore(_ data: Data, _ d: Decoded, length: Int, maxLength: Int) throws -> KVCache {
        let h = d.header, n = max(0, min(length, h.tokens.count)), T = h.tokens.count
        let width = h.kvHeads * h.headDim
        let cache = KVCache(layers: h.layers, kvHeads: h.kvHeads, headDim: h.headDim, maxLength: max(maxLength, n),
                            initialCapacity: max(n, min(256, maxLength)))
        try cache.reserve(n)
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let layerBytes = T * width * 4
            var k = [Float](repeating: 0, count: n * width), v = k
            for l in 0..<h.layers {
                let kStart = d.kvOffset + 2 * l * layerBytes
                k.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + kStart, count: n * width * 4)) }
                v.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + kStart + layerBytes, count: n * width * 4)) }
                cache.store(layer: l, k: k, ldk: width, v: v, ldv: width, rows: n)
            }
        }
        cache.commit(tokens: Array(h.tokens.prefix(n)), longFactors: h.longFactors)
        return cache
    }

    static func product(_ a: Int, _ b: Int) throws -> Int {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        guard !o else { throw Failure.corrupt("sizes overflow") }
        return p
    }

    /// FNV-1a over little-endian 8-byte words (the tail zero-padded): cheap, and any flipped or lost byte shows.
    static func checksum(_ data: Data) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { raw in
            let words = raw.count / 8
            for i in 0..<words {
                h = (h ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* 0x100_0000_01b3
            }
            var tail: UInt64 = 0
            for (j, b) in raw[(words * 8)...].enumerated() { tail |= UInt64(b) << (8 * UInt64(j)) }
            h = (h ^ tail ^ UInt64(raw.count)) &* 0x100_0000_01b3
        }
        return h
    }

    private struct Writer {
        var data = Data()
        mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
        mutating func raw(_ b: UnsafeRawBufferPointer) { data.append(contentsOf: b) }
        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    }

    private struct Reader {
        let data: Data
        var offset = 0
        var remaining: Int { data.count - offset }

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n >= 0, n <= remaining else { throw Failure.corrupt("truncated") }
            defer { offset += n }
            let start = data.startIndex + offset
            return Array(data[start..<(start + n)])
        }
        mutating func u32() throws -> UInt32 {
            guard remaining >= 4 else { throw Failure.corrupt("truncated") }
            defer { offset += 4 }
            return UInt32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) })
        }
        mutating func u64() throws -> UInt64 {
            guard remaining >= 8 else { throw Failure.corrupt("truncated") }
            defer { offset += 8 }
            return UInt64(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) })
        }
        /// A u32 that must fit a positive Int size.
        mutating func int32() throws -> Int { Int(try u32()) }
        /// A u64 that must be a non-negative Int.
        mutating func int64() throws -> Int {
            let v = try u64()
            guard v <= UInt64(Int.max) else { throw Failure.corrupt("value out of range") }
            return Int(v)
        }
        mutating func floats(_ n: Int) throws -> [Float] {
            let bytes = try PrefixSpillFile.product(n, 4)
            guard bytes <= remaining else { throw Failure.corrupt("truncated") }
            var out = [Float](repeating: 0, count: n)
            out.withUnsafeMutableBytes { dst in
                data.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + bytes)])) }
            }
            offset += bytes
            return out
        }
    }
}
