import Foundation

/// RIFF/RIFX/RF64 WAVE decoder: PCM 8 (unsigned), 16, 24, 32-bit int (and 9–32 bit in byte containers),
/// IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE with the PCM or float subformat; any channel count.
enum WAVDecoder {
    private static let formatPCM: UInt16 = 1
    private static let formatFloat: UInt16 = 3
    private static let formatExtensible: UInt16 = 0xFFFE
    /// Bytes 2..<16 of the KSDATAFORMAT_SUBTYPE_* GUIDs (the first two bytes hold the format code).
    private static let guidTail: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]

    private struct Format {
        var code: UInt16
        var channels: Int
        var sampleRate: Int
        var blockAlign: Int
        var bits: Int
    }

    /// A chunk id for matching and messages: the four characters when printable ASCII, else hex.
    static func fourCC(_ b: UnsafeRawBufferPointer, _ o: Int) -> String {
        let bytes = b[o..<(o + 4)]
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        return "0x" + bytes.map { String(format: "%02X", $0) }.joined()
    }

    static func decode(_ b: UnsafeRawBufferPointer, limits: AudioLimits) throws -> AudioClip {
        let n = b.count
        guard n >= 12 else { throw AudioError.truncated("WAV header needs 12 bytes, got \(n)") }
        let magic = String(decoding: b[0..<4], as: UTF8.self)
        let bigEndian = magic == "RIFX"
        let rf64 = magic == "RF64"
        guard magic == "RIFF" || bigEndian || rf64, String(decoding: b[8..<12], as: UTF8.self) == "WAVE" else {
            throw AudioError.corrupt("not a RIFF WAVE file")
        }
        func u16(_ o: Int) -> UInt16 {
            let v = UInt16(b[o]) | UInt16(b[o + 1]) << 8
            return bigEndian ? v.byteSwapped : v
        }
        func u32(_ o: Int) -> UInt32 {
            let v = UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
            return bigEndian ? v.byteSwapped : v
        }
        func u64(_ o: Int) -> UInt64 { UInt64(u32(o)) | UInt64(u32(o + 4)) << 32 }

        var format: Format?
        var dataRange: Range<Int>?
        var rf64DataSize: UInt64?
        var pos = 12
        while pos + 8 <= n {
            let id = fourCC(b, pos)
            let declared = u32(pos + 4)
            let body = pos + 8
            var size: Int
            if id == "data" && rf64 && declared == 0xFFFF_FFFF, let s = rf64DataSize {
                guard s <= UInt64(n - body) else { throw AudioError.truncated("RF64 data chunk declares \(s) bytes, \(n - body) present") }
                size = Int(s)
            } else if id == "data" && declared == 0xFFFF_FFFF {
                size = n - body  // streamed WAV with an unknown length: the rest of the file
            } else {
                size = Int(declared)
            }
            guard size <= n - body else {
                throw AudioError.truncated("WAV chunk '\(id)' declares \(size) bytes, only \(n - body) present")
            }
            switch id {
            case "ds64" where rf64:
                guard size >= 24 else { throw AudioError.corrupt("RF64 ds64 chunk is \(size) bytes, expected at least 24") }
                rf64DataSize = u64(body + 8)
            case "fmt ":
                guard format == nil else { throw AudioError.corrupt("WAV has two 'fmt ' chunks") }
                guard size >= 16 else { throw AudioError.corrupt("WAV 'fmt ' chunk is \(size) bytes, expected at least 16") }
                var f = Format(code: u16(body), channels: Int(u16(body + 2)), sampleRate: Int(u32(body + 4)),
                               blockAlign: Int(u16(body + 12)), bits: Int(u16(body + 14)))
                if f.code == formatExtensible {
                    guard size >= 40 else { throw AudioError.corrupt("WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is \(size) bytes, expected 40") }
                    let sub = body + 24
                    guard Array(b[(sub + 2)..<(sub + 16)]) == guidTail else {
                        throw AudioError.unsupportedEncoding("WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID")
                    }
                    f.code = u16(sub)
                }
                format = f
            case "data":
                guard dataRange == nil else { throw AudioError.corrupt("WAV has two 'data' chunks") }
                dataRange = body..<(body + size)
            default:
                break  // LIST, fact, cue, bext, JUNK, …: skipped
            }
            // chunks are padded to an even size; a missing pad byte at the very end is tolerated
            let padded = size + (size & 1)
            if padded > n - body { break }
            pos = body + padded
        }
        guard let f = format else { throw AudioError.corrupt("WAV has no 'fmt ' chunk") }
        guard let data = dataRange else { throw AudioError.corrupt("WAV has no 'data' chunk") }
        guard f.channels >= 1 else { throw AudioError.corrupt("WAV declares 0 channels") }
        guard AudioResampler.supportedRates.contains(f.sampleRate) else { throw AudioError.invalidSampleRate(f.sampleRate) }

        let bytesPerSample: Int
        switch (f.code, f.bits) {
        case (formatPCM, 1...32): bytesPerSample = (f.bits + 7) / 8
        case (formatFloat, 32), (formatFloat, 64): bytesPerSample = f.bits / 8
        case (formatPCM, _), (formatFloat, _):
            throw AudioError.unsupportedEncoding("WAV \(f.code == formatPCM ? "PCM" : "float") with \(f.bits) bits per sample")
        case (6, _): throw AudioError.unsupportedEncoding("WAV A-law")
        case (7, _): throw AudioError.unsupportedEncoding("WAV µ-law")
        case (2, _), (0x11, _): throw AudioError.unsupportedEncoding("WAV ADPCM")
        case (0x55, _): throw AudioError.unsupportedFormat("MP3 inside a WAV container")
        default: throw AudioError.unsupportedEncoding(String(format: "WAV format code 0x%04X", f.code))
        }
        let frameBytes = try checkedMul(bytesPerSample, f.channels, "WAV frame size")
        guard f.blockAlign == frameBytes else {
            throw AudioError.corrupt("WAV block align \(f.blockAlign) does not match \(f.channels) channels × \(bytesPerSample) bytes")
        }
        let frames = data.count / frameBytes  // a trailing partial frame is dropped, as libsndfile does
        guard frames > 0 else { throw AudioError.empty("WAV 'data' chunk holds no complete sample frame") }
        try limits.check(frames: frames, rate: f.sampleRate)

        let samples = try decodeSamples(b, start: data.lowerBound, frames: frames, channels: f.channels,
                                        bytes: bytesPerSample, isFloat: f.code == formatFloat, bigEndian: bigEndian)
        return AudioClip(sampleRate: f.sampleRate, samples: samples)
    }

    private static func decodeSamples(_ b: UnsafeRawBufferPointer, start: Int, frames: Int, channels: Int,
                                      bytes: Int, isFloat: Bool, bigEndian: Bool) throws -> [Float] {
        guard let base = b.baseAddress else { throw AudioError.empty("no data") }
        let p = base.advanced(by: start).assumingMemoryBound(to: UInt8.self)
        // Reads sample `i` (interleaved index) as Double, scaled like libsndfile's sf_read_double.
        @inline(__always) func raw(_ i: Int) -> UInt64 {
            let q = p + i * bytes
            var v: UInt64 = 0
            if bigEndian {
                for k in 0..<bytes { v = v << 8 | UInt64(q[k]) }
            } else {
                for k in stride(from: bytes - 1, through: 0, by: -1) { v = v << 8 | UInt64(q[k]) }
            }
            return v
        }
        let sample: (Int) -> Double
        if isFloat {
            if bytes == 4 {
                sample = { Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw($0)))) }
            } else {
                sample = { Double(bitPattern: raw($0)) }
            }
        } else if bytes == 1 {
            sample = { (Double(p[$0]) - 128) / 128 }
        } else {
            let shift = UInt64(64 - 8 * bytes)
            let scale = 1.0 / Double(sign: .plus, exponent: 8 * bytes - 1, significand: 1)
            sample = { Double(Int64(bitPattern: raw($0) << shift) >> Int64(shift)) * scale }
        }
        var out = [Float](repeating: 0, count: frames)
        var finite = true
        out.withUnsafeMutableBufferPointer { o in
            if channels == 1 {
                for i in 0..<frames { o[i] = Float(sample(i)) }
            } else {
                let c = Double(channels)
                for i in 0..<frames {
                    var s = 0.0
                    let j = i * channels
                    for ch in 0..<channels { s += sample(j + ch) }
                    o[i] = Float(s / c)
                }
            }
            if isFloat { for v in o where !v.isFinite { finite = false; break } }
        }
        if !finite { throw AudioError.nonFiniteSamples }
        return out
    }
}
