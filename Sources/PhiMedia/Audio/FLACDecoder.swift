import Foundation

/// Bounds-checked MSB-first bit reader over a byte buffer (FLAC's bit order).
struct FLACBitReader {
    let p: UnsafePointer<UInt8>
    let count: Int  // bytes
    var bitPos: Int = 0

    init(_ p: UnsafePointer<UInt8>, count: Int, byteOffset: Int) {
        self.p = p
        self.count = count
        self.bitPos = byteOffset * 8
    }

    var bytePos: Int { bitPos >> 3 }
    var bitsLeft: Int { count * 8 - bitPos }

    /// The next 64 bits, MSB-aligned, zeros past the end; at least 57 of them are real when available.
    @inline(__always) func peek64() -> UInt64 {
        let b = bitPos >> 3
        var v: UInt64
        if b + 8 <= count {
            v = UInt64(bigEndian: UnsafeRawPointer(p + b).loadUnaligned(as: UInt64.self))
        } else {
            v = 0
            for k in 0..<8 { v = v << 8 | (b + k < count ? UInt64(p[b + k]) : 0) }
        }
        return v << UInt64(bitPos & 7)
    }

    /// Reads `n` ≤ 57 bits as an unsigned value.
    @inline(__always) mutating func read(_ n: Int) throws -> UInt64 {
        if n == 0 { return 0 }
        guard n <= bitsLeft else { throw AudioError.truncated("FLAC frame ends early") }
        let v = peek64() >> UInt64(64 - n)
        bitPos += n
        return v
    }

    /// Reads `n` ≤ 57 bits as a two's-complement signed value.
    @inline(__always) mutating func readSigned(_ n: Int) throws -> Int64 {
        if n == 0 { return 0 }
        let v = try read(n)
        let s = UInt64(64 - n)
        return Int64(bitPattern: v << s) >> Int64(s)
    }

    /// Counts zero bits up to the next one bit (consumed); at most `limit` zeros.
    @inline(__always) mutating func readUnary(limit: Int) throws -> Int {
        var q = 0
        while true {
            let avail = bitsLeft
            guard avail > 0 else { throw AudioError.truncated("FLAC frame ends early") }
            let valid = min(avail, 57)
            let w = peek64() & ~(UInt64.max >> UInt64(valid))
            if w != 0 {
                let lz = w.leadingZeroBitCount
                bitPos += lz + 1
                q += lz
                guard q <= limit else { throw AudioError.corrupt("FLAC Rice code too long") }
                return q
            }
            q += valid
            bitPos += valid
            guard q <= limit else { throw AudioError.corrupt("FLAC Rice code too long") }
        }
    }

    mutating func alignToByte() { bitPos = (bitPos + 7) & ~7 }
}

/// FLAC decoder: STREAMINFO, fixed and variable block sizes, CONSTANT/VERBATIM/FIXED/LPC subframes, wasted bits,
/// Rice and Rice2 partitions with escape codes, independent/left-side/right-side/mid-side channels, 4–32 bits;
/// FLACCRC-8 of every frame header and FLACCRC-16 of every frame are verified.
enum FLACDecoder {
    static func decode(_ buf: UnsafeRawBufferPointer, start: Int, limits: AudioLimits) throws -> AudioClip {
        guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw AudioError.empty("no data") }
        let n = buf.count
        var pos = start + 4  // after "fLaC"
        // metadata blocks
        var info: (minBlock: Int, maxBlock: Int, rate: Int, channels: Int, bps: Int, total: Int)?
        var last = false
        while !last {
            guard pos + 4 <= n else { throw AudioError.truncated("FLAC metadata block header") }
            let h = base[pos]
            last = h & 0x80 != 0
            let type = Int(h & 0x7F)
            let len = Int(base[pos + 1]) << 16 | Int(base[pos + 2]) << 8 | Int(base[pos + 3])
            pos += 4
            guard len <= n - pos else { throw AudioError.truncated("FLAC metadata block \(type) declares \(len) bytes, \(n - pos) present") }
            if info == nil && type != 0 { throw AudioError.corrupt("FLAC STREAMINFO is not the first metadata block") }
            if type == 127 { throw AudioError.corrupt("FLAC metadata block type 127") }
            if type == 0 {
                guard info == nil else { throw AudioError.corrupt("FLAC has two STREAMINFO blocks") }
                guard len == 34 else { throw AudioError.corrupt("FLAC STREAMINFO is \(len) bytes, expected 34") }
                var r = FLACBitReader(base, count: pos + 34, byteOffset: pos)
                let minBlock = Int(try r.read(16)), maxBlock = Int(try r.read(16))
                _ = try r.read(24); _ = try r.read(24)
                let rate = Int(try r.read(20))
                let channels = Int(try r.read(3)) + 1
                let bps = Int(try r.read(5)) + 1
                let total = Int(try r.read(36))
                guard bps >= 4 else { throw AudioError.corrupt("FLAC STREAMINFO bits per sample \(bps)") }
                guard minBlock >= 16 || minBlock == maxBlock, maxBlock >= 16 || minBlock == maxBlock, minBlock <= maxBlock else {
                    throw AudioError.corrupt("FLAC STREAMINFO block sizes \(minBlock)…\(maxBlock)")
                }
                guard AudioResampler.supportedRates.contains(rate) else { throw AudioError.invalidSampleRate(rate) }
                info = (minBlock, maxBlock, rate, channels, bps, total)
            }
            pos += len
        }
        guard let si = info else { throw AudioError.corrupt("FLAC has no STREAMINFO") }
        // The output is bounded before it is allocated. With the total declared (nearly every file), the total is
        // checked against the limits and the decode may not exceed it; with it unknown (0, streamed encoders), a
        // first pass decodes frame by frame into the per-channel block buffers only, counting samples against the
        // limits, so a decompression bomb fails after a bounded amount of work and without memory.
        let budget = limits.frameBudget(rate: si.rate)
        let expected: Int
        if si.total > 0 {
            try limits.check(frames: si.total, rate: si.rate)
            expected = si.total
        } else {
            expected = try forEachFrame(base, n: n, start: pos, info: si, budget: budget, limits: limits) { _, _ in }
        }
        var out = [Float](repeating: 0, count: expected)
        var mix = [Double](repeating: 0, count: 65536)  // the largest block size
        let scale = 1.0 / Double(sign: .plus, exponent: si.bps - 1, significand: 1)
        let decoded = try forEachFrame(base, n: n, start: pos, info: si, budget: expected, limits: limits) { old, chan in
            // mean over channels in Double, channel 0 first (the order numpy's mean(1) adds them), then Float
            let blockSize = chan[0].count
            mix.withUnsafeMutableBufferPointer { m in
                for i in 0..<blockSize { m[i] = 0 }
                for ch in 0..<si.channels {
                    chan[ch].withUnsafeBufferPointer { c in for i in 0..<blockSize { m[i] += Double(c[i]) * scale } }
                }
                let cd = Double(si.channels)
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<blockSize { o[old + i] = Float(m[i] / cd) }
                }
            }
        }
        if decoded < expected {
            throw AudioError.truncated("FLAC holds \(decoded) of the \(expected) samples STREAMINFO declares")
        }
        guard decoded > 0 else { throw AudioError.empty("FLAC stream has no audio frames") }
        return AudioClip(sampleRate: si.rate, samples: out)
    }

    /// Decodes the frames from `start`, calling `body(firstSample, channels)` for each with the decoded block;
    /// returns the sample count. More than `budget` samples is an error: `corrupt` when STREAMINFO declared the
    /// total, otherwise the limit that the budget came from.
    private static func forEachFrame(_ base: UnsafePointer<UInt8>, n: Int, start: Int,
                                     info si: (minBlock: Int, maxBlock: Int, rate: Int, channels: Int, bps: Int, total: Int),
                                     budget: Int, limits: AudioLimits,
                                     _ body: (Int, [[Int64]]) throws -> Void) throws -> Int {
        var chan = [[Int64]](repeating: [], count: si.channels)
        var count = 0
        var r = FLACBitReader(base, count: n, byteOffset: start)
        while r.bytePos < n {
            let rest = n - r.bytePos
            // an ID3v1 tag may follow the last frame
            if rest == 128, base[r.bytePos] == 0x54, base[r.bytePos + 1] == 0x41, base[r.bytePos + 2] == 0x47 { break }
            let blockSize = try decodeFrame(&r, base: base, info: (si.rate, si.channels, si.bps), chan: &chan)
            let total = try checkedAdd(count, blockSize, "FLAC sample count")
            if total > budget {
                if si.total > 0 { throw AudioError.corrupt("FLAC has more samples than STREAMINFO declares (\(si.total))") }
                try limits.check(frames: total, rate: si.rate)
                throw AudioError.tooManySamples(samples: total, limit: budget)  // not reached: the budget is the limits
            }
            try body(count, chan)
            count = total
        }
        return count
    }

    /// Decodes one frame into `chan` (each resized to the block size); returns the block size.
    private static func decodeFrame(_ r: inout FLACBitReader, base: UnsafePointer<UInt8>, info: (rate: Int, channels: Int, bps: Int),
                                    chan: inout [[Int64]]) throws -> Int {
        let frameStart = r.bytePos
        let sync = try r.read(15)
        guard sync == 0x7FFC else { throw AudioError.corrupt("FLAC frame sync code missing at byte \(frameStart)") }
        _ = try r.read(1)  // blocking strategy: the coded number below is a frame or a sample number
        let bsCode = Int(try r.read(4)), srCode = Int(try r.read(4))
        let chCode = Int(try r.read(4)), ssCode = Int(try r.read(3))
        guard try r.read(1) == 0 else { throw AudioError.corrupt("FLAC frame header reserved bit set") }
        // UTF-8-like coded number, 1–7 bytes
        let first = try r.read(8)
        let extra: Int
        switch first {
        case 0..<0x80: extra = 0
        case 0xC0..<0xE0: extra = 1
        case 0xE0..<0xF0: extra = 2
        case 0xF0..<0xF8: extra = 3
        case 0xF8..<0xFC: extra = 4
        case 0xFC..<0xFE: extra = 5
        case 0xFE: extra = 6
        default: throw AudioError.corrupt("FLAC frame number coding")
        }
        for _ in 0..<extra {
            guard try r.read(8) & 0xC0 == 0x80 else { throw AudioError.corrupt("FLAC frame number coding") }
        }
        var blockSize: Int
        switch bsCode {
        case 0: throw AudioError.corrupt("FLAC reserved block size code")
        case 1: blockSize = 192
        case 2...5: blockSize = 576 << (bsCode - 2)
        case 6: blockSize = Int(try r.read(8)) + 1
        case 7: blockSize = Int(try r.read(16)) + 1
        default: blockSize = 256 << (bsCode - 8)
        }
        var rate = info.rate
        switch srCode {
        case 0: break
        case 1: rate = 88200
        case 2: rate = 176400
        case 3: rate = 192000
        case 4: rate = 8000
        case 5: rate = 16000
        case 6: rate = 22050
        case 7: rate = 24000
        case 8: rate = 32000
        case 9: rate = 44100
        case 10: rate = 48000
        case 11: rate = 96000
        case 12: rate = Int(try r.read(8)) * 1000
        case 13: rate = Int(try r.read(16))
        case 14: rate = Int(try r.read(16)) * 10
        default: throw AudioError.corrupt("FLAC invalid sample rate code")
        }
        guard rate == info.rate else { throw AudioError.corrupt("FLAC frame sample rate \(rate) differs from STREAMINFO \(info.rate)") }
        let bpsTable = [0, 8, 12, -1, 16, 20, 24, 32]
        let bps = ssCode == 0 ? info.bps : bpsTable[ssCode]
        guard bps == info.bps else { throw AudioError.corrupt("FLAC frame bits per sample \(bps) differs from STREAMINFO \(info.bps)") }
        let channels: Int
        switch chCode {
        case 0...7: channels = chCode + 1
        case 8...10: channels = 2
        default: throw AudioError.corrupt("FLAC reserved channel assignment \(chCode)")
        }
        guard channels == info.channels else { throw AudioError.corrupt("FLAC frame has \(channels) channels, STREAMINFO \(info.channels)") }
        let headerEnd = r.bytePos
        let crc8 = try r.read(8)
        guard crc8 == UInt64(FLACCRC.crc8(base + frameStart, headerEnd - frameStart)) else {
            throw AudioError.checksumMismatch("FLAC frame header FLACCRC-8 at byte \(frameStart)")
        }

        for ch in 0..<channels {
            if chan[ch].count != blockSize { chan[ch] = [Int64](repeating: 0, count: blockSize) }
            // the side channel carries one extra bit
            let sideBits = (chCode == 8 && ch == 1) || (chCode == 9 && ch == 0) || (chCode == 10 && ch == 1) ? 1 : 0
            try chan[ch].withUnsafeMutableBufferPointer { s in
                try decodeSubframe(&r, bps: bps + sideBits, out: s)
            }
        }
        r.alignToByte()
        let frameEnd = r.bytePos
        let crc16 = try r.read(16)
        guard crc16 == UInt64(FLACCRC.crc16(base + frameStart, frameEnd - frameStart)) else {
            throw AudioError.checksumMismatch("FLAC frame FLACCRC-16 at byte \(frameStart)")
        }
        // stereo decorrelation; the results fit in bps bits for valid streams and are checked
        if chCode >= 8 {
            let lim = Int64(1) << Int64(bps - 1)
            var bad = false
            var c0 = chan[0], c1 = chan[1]
            chan[0] = []; chan[1] = []  // moved out, so no copy-on-write
            defer { chan[0] = c0; chan[1] = c1 }
            c0.withUnsafeMutableBufferPointer { a in
                c1.withUnsafeMutableBufferPointer { b in
                    for i in 0..<blockSize {
                        var left: Int64, right: Int64
                        switch chCode {
                        case 8: left = a[i]; right = a[i] - b[i]
                        case 9: right = b[i]; left = a[i] + b[i]
                        default:
                            let mid = (a[i] << 1) | (b[i] & 1)
                            left = (mid + b[i]) >> 1; right = (mid - b[i]) >> 1
                        }
                        if left < -lim || left >= lim || right < -lim || right >= lim { bad = true }
                        a[i] = left; b[i] = right
                    }
                }
            }
            if bad { throw AudioError.corrupt("FLAC stereo sample out of range") }
        }
        return blockSize
    }

    private static let fixedCoefficients: [[Int64]] = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]]

    private static func decodeSubframe(_ r: inout FLACBitReader, bps: Int, out s: UnsafeMutableBufferPointer<Int64>) throws {
        guard try r.read(1) == 0 else { throw AudioError.corrupt("FLAC subframe padding bit set") }
        let type = Int(try r.read(6))
        var wasted = 0
        if try r.read(1) == 1 { wasted = try r.readUnary(limit: 32) + 1 }
        guard wasted < bps else { throw AudioError.corrupt("FLAC subframe wasted bits \(wasted) ≥ \(bps)") }
        let bits = bps - wasted
        let n = s.count
        switch type {
        case 0:
            let v = try r.readSigned(bits)
            for i in 0..<n { s[i] = v }
        case 1:
            for i in 0..<n { s[i] = try r.readSigned(bits) }
        case 8...12:
            let order = type - 8
            try predict(&r, bits: bits, order: order, coefs: fixedCoefficients[order], shift: 0, out: s)
        case 32...63:
            let order = type - 31
            guard order <= n else { throw AudioError.corrupt("FLAC LPC order \(order) exceeds block size \(n)") }
            var warm = [Int64](repeating: 0, count: order)
            for i in 0..<order { warm[i] = try r.readSigned(bits) }
            let precision = Int(try r.read(4)) + 1
            guard precision <= 15 else { throw AudioError.corrupt("FLAC LPC precision code 15") }
            let shift = Int(try r.readSigned(5))
            guard shift >= 0 else { throw AudioError.corrupt("FLAC negative LPC shift") }
            var coefs = [Int64](repeating: 0, count: order)
            for i in 0..<order { coefs[i] = try r.readSigned(precision) }
            for i in 0..<order { s[i] = warm[i] }
            try predict(&r, bits: bits, order: order, coefs: coefs, shift: shift, out: s, warmupRead: true)
        default:
            throw AudioError.corrupt("FLAC reserved subframe type \(type)")
        }
        if wasted > 0 { for i in 0..<n { s[i] <<= Int64(wasted) } }
    }

    /// Reads warm-up samples (unless already read) and the residual, then runs the predictor
    /// s[i] = residual[i] + (Σ coefs[j]·s[i−1−j]) >> shift, checking every sample fits `bits` bits.
    private static func predict(_ r: inout FLACBitReader, bits: Int, order: Int, coefs: [Int64], shift: Int,
                                out s: UnsafeMutableBufferPointer<Int64>, warmupRead: Bool = false) throws {
        let n = s.count
        guard order <= n else { throw AudioError.corrupt("FLAC predictor order \(order) exceeds block size \(n)") }
        if !warmupRead { for i in 0..<order { s[i] = try r.readSigned(bits) } }
        try readResidual(&r, order: order, out: s)
        let lo = -(Int64(1) << Int64(bits - 1)), hi = (Int64(1) << Int64(bits - 1)) - 1
        let sh = Int64(shift)
        guard let sp = s.baseAddress, order < n else { return }
        // coefficients reversed so the inner loop walks the history forwards
        let rc = coefs.reversed().map { $0 }
        var bad = false
        rc.withUnsafeBufferPointer { cb in
            guard let c = cb.baseAddress else {
                for i in 0..<n { bad = bad || sp[i] < lo || sp[i] > hi }  // order 0: the residual is the signal
                return
            }
            for i in order..<n {
                let h = sp + (i - order)
                var sum: Int64 = 0
                for j in 0..<order { sum &+= c[j] &* h[j] }
                let v = sp[i] &+ (sum >> sh)
                bad = bad || v < lo || v > hi
                sp[i] = v
            }
        }
        if bad { throw AudioError.corrupt("FLAC predicted sample out of range") }
    }

    /// Residual (Rice / Rice2 partitions with escapes) into s[order..<n].
    private static func readResidual(_ r: inout FLACBitReader, order: Int, out s: UnsafeMutableBufferPointer<Int64>) throws {
        let method = try r.read(2)
        guard method <= 1 else { throw AudioError.corrupt("FLAC reserved residual coding method") }
        let paramBits = method == 0 ? 4 : 5
        let escape = UInt64(method == 0 ? 15 : 31)
        let partitionOrder = Int(try r.read(4))
        let n = s.count
        let parts = 1 << partitionOrder
        guard n % parts == 0 else { throw AudioError.corrupt("FLAC block size \(n) not divisible into \(parts) partitions") }
        let perPart = n / parts
        guard perPart >= order else { throw AudioError.corrupt("FLAC first partition shorter than the predictor order") }
        var i = order
        for p in 0..<parts {
            let count = p == 0 ? perPart - order : perPart
            let param = try r.read(paramBits)
            if param == escape {
                let raw = Int(try r.read(5))
                for _ in 0..<count { s[i] = try r.readSigned(raw); i += 1 }
            } else {
                let k = Int(param)
                // residuals are at most 33 bits wide after folding; longer codes are corrupt
                let limit = (1 << max(0, 34 - k)) - 1
                for _ in 0..<count {
                    let q = try r.readUnary(limit: limit)
                    let u = UInt64(q) << UInt64(k) | (try r.read(k))
                    s[i] = Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
                    i += 1
                }
            }
        }
    }
}

/// FLAC checksums: FLACCRC-8 (poly 0x07) for frame headers and FLACCRC-16 (poly 0x8005) for frames.
enum FLACCRC {
    static let table8: [UInt8] = (0..<256).map { i in
        var c = UInt8(i)
        for _ in 0..<8 { c = c & 0x80 != 0 ? (c << 1) ^ 0x07 : c << 1 }
        return c
    }
    static let table16: [UInt16] = (0..<256).map { i in
        var c = UInt16(i) << 8
        for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x8005 : c << 1 }
        return c
    }

    static func crc8(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt8 {
        var c: UInt8 = 0
        table8.withUnsafeBufferPointer { t in for i in 0..<n { c = t[Int(c ^ p[i])] } }
        return c
    }

    static func crc16(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt16 {
        var c: UInt16 = 0
        table16.withUnsafeBufferPointer { t in for i in 0..<n { c = (c << 8) ^ t[Int(UInt8(c >> 8) ^ p[i])] } }
        return c
    }
}
