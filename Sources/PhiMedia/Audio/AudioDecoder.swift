import Foundation
import PhiKernels

/// Decodes WAV (RIFF/RIFX/RF64: PCM 8/16/24/32, float 32/64, EXTENSIBLE) and FLAC into a mono `AudioClip` with
/// samples scaled exactly like `soundfile.read(path)` (channels averaged). Other formats are recognised by their
/// magic bytes and rejected with a conversion hint. Sizes are validated against the data before allocation, and
/// `AudioLimits` caps the input bytes and the decoded duration.
public enum AudioDecoder {
    /// Decodes WAV or FLAC bytes; throws `AudioError` for anything else, corrupt data or exceeded limits.
    public static func decode(_ data: Data, limits: AudioLimits = .default) throws -> AudioClip {
        guard data.count <= limits.maxBytes else { throw AudioError.tooLarge(bytes: data.count, limit: limits.maxBytes) }
        guard !data.isEmpty else { throw AudioError.empty("the input is 0 bytes") }
        return try data.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> AudioClip in
            switch try sniff(b) {
            case .wav: return try WAVDecoder.decode(b, limits: limits)
            case .flac(let offset): return try FLACDecoder.decode(b, start: offset, limits: limits)
            }
        }
    }

    /// Reads and decodes a file, checking its type (regular files only: a FIFO or device could block or never end)
    /// and its size against `limits.maxBytes` before reading it.
    public static func decode(contentsOf url: URL, limits: AudioLimits = .default) throws -> AudioClip {
        let data: Data
        do throws(SafeFileError) {
            data = try SafeFile.read(url, limit: limits.maxBytes)  // read, not mapped: a file truncated meanwhile cannot fault
        } catch {
            if case .tooLarge(_, let bytes, let limit) = error { throw AudioError.tooLarge(bytes: bytes, limit: limit) }
            throw AudioError.io("\(url.path): \(error.reason)")
        }
        return try decode(data, limits: limits)
    }

    enum Container { case wav, flac(offset: Int) }

    /// Identifies the container from its magic bytes.
    static func sniff(_ b: UnsafeRawBufferPointer) throws -> Container {
        let n = b.count
        func at(_ o: Int, _ s: String) -> Bool {
            let u = Array(s.utf8)
            return o + u.count <= n && zip(b[o..<(o + u.count)], u).allSatisfy { $0 == $1 }
        }
        if at(0, "RIFF") || at(0, "RIFX") || at(0, "RF64") {
            if at(8, "WAVE") { return .wav }
            if at(8, "AVI ") { throw AudioError.unsupportedFormat("AVI video") }
            if at(8, "WEBP") { throw AudioError.unsupportedFormat("WebP image") }
            if n < 12 { throw AudioError.truncated("RIFF header needs 12 bytes, got \(n)") }
            throw AudioError.unsupportedFormat("RIFF file of type '\(WAVDecoder.fourCC(b, 8))'")
        }
        if at(0, "fLaC") { return .flac(offset: 0) }
        if at(0, "ID3") {
            // ID3v2 tag: 10-byte header, syncsafe size; FLAC files sometimes carry one, MP3 files usually do
            guard n >= 10 else { throw AudioError.truncated("ID3 tag header") }
            var size = 0
            for k in 6..<10 { size = size << 7 | Int(b[k] & 0x7F) }
            let footer = b[5] & 0x10 != 0 ? 10 : 0
            let end = 10 + size + footer
            if at(end, "fLaC") { return .flac(offset: end) }
            throw AudioError.unsupportedFormat("MP3 (ID3-tagged)")
        }
        if n >= 2 && b[0] == 0xFF {
            if b[1] & 0xF6 == 0xF0 { throw AudioError.unsupportedFormat("AAC (ADTS)") }
            if b[1] & 0xE0 == 0xE0 { throw AudioError.unsupportedFormat("MP3 (MPEG audio)") }
        }
        if at(0, "OggS") {
            if at(28, "OpusHead") { throw AudioError.unsupportedFormat("Ogg Opus") }
            if at(29, "vorbis") { throw AudioError.unsupportedFormat("Ogg Vorbis") }
            if at(29, "FLAC") { throw AudioError.unsupportedFormat("FLAC inside Ogg") }
            throw AudioError.unsupportedFormat("Ogg")
        }
        if at(4, "ftyp") { throw AudioError.unsupportedFormat("MP4/M4A (AAC or ALAC)") }
        if at(0, "FORM") && (at(8, "AIFF") || at(8, "AIFC")) { throw AudioError.unsupportedFormat("AIFF") }
        if at(0, "caff") { throw AudioError.unsupportedFormat("Core Audio Format (CAF)") }
        if at(0, ".snd") { throw AudioError.unsupportedFormat("Sun/NeXT AU") }
        if at(0, "\u{1A}\u{45}") && n >= 4 && b[2] == 0xDF && b[3] == 0xA3 { throw AudioError.unsupportedFormat("Matroska/WebM") }
        if at(0, "#!AMR") { throw AudioError.unsupportedFormat("AMR") }
        if at(0, "wvpk") { throw AudioError.unsupportedFormat("WavPack") }
        if at(0, "MAC ") { throw AudioError.unsupportedFormat("Monkey's Audio") }
        if at(0, "MThd") { throw AudioError.unsupportedFormat("MIDI (no waveform)") }
        throw AudioError.unsupportedFormat("unrecognised data (not WAV or FLAC)")
    }
}
