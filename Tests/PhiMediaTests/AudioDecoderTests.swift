import Foundation
import XCTest
@testable import PhiMedia
import PhiTestSupport

final class AudioDecoderTests: XCTestCase {
    /// Every decode fixture equals soundfile.read (float64, channels averaged, then float32) bit for bit.
    func testDecodeMatchesSoundfileExactly() throws {
        let entries = try AudioFixtures.entries("decode")
        XCTAssertGreaterThan(entries.count, 30)
        for e in entries {
            let name = try XCTUnwrap(e["file"] as? String)
            let clip: AudioClip
            do { clip = try AudioDecoder.decode(contentsOf: AudioFixtures.url(name)) } catch {
                XCTFail("\(name): \(error)"); continue
            }
            XCTAssertEqual(clip.sampleRate, e["rate"] as? Int, name)
            XCTAssertEqual(clip.samples.count, e["count"] as? Int, name)
            for p in (e["probes"] as? [[Double]]) ?? [] {
                let i = Int(p[0])
                guard i < clip.samples.count else { XCTFail("\(name): probe \(i) out of range"); break }
                XCTAssertEqual(clip.samples[i].bitPattern, Float(p[1]).bitPattern, "\(name)[\(i)]: \(clip.samples[i]) vs \(p[1])")
            }
            XCTAssertEqual(AudioFixtures.fnv64(clip.samples), e["fnv64"] as? String, "\(name): sample checksum")
        }
    }

    /// FLAC files decode to exactly the samples of the WAV they were encoded from.
    func testFLACEqualsSourceWAV() throws {
        var pairs = try AudioFixtures.entries("decode").compactMap { e -> (String, String)? in
            guard let f = e["file"] as? String, let s = e["sameAs"] as? String, s.hasSuffix(".wav") else { return nil }
            return (f, s)
        }
        pairs.append(("mini_variable_stereo16.flac", "mini_variable_stereo16.wav"))
        XCTAssertGreaterThan(pairs.count, 10)
        for (flac, wav) in pairs where wav != "wasted_bits.wav" {
            let a = try AudioDecoder.decode(contentsOf: AudioFixtures.url(flac))
            let b = try AudioDecoder.decode(contentsOf: AudioFixtures.url(wav))
            XCTAssertEqual(a, b, "\(flac) vs \(wav)")
        }
    }

    func testErrorFixtures() throws {
        let entries = try AudioFixtures.entries("errors")
        XCTAssertGreaterThan(entries.count, 15)
        for e in entries {
            let name = try XCTUnwrap(e["file"] as? String), want = try XCTUnwrap(e["kind"] as? String)
            do {
                let c = try AudioDecoder.decode(contentsOf: AudioFixtures.url(name))
                XCTFail("\(name): decoded \(c.samples.count) samples, expected \(want)")
            } catch {
                let got = AudioFixtures.kind(error)
                if want == "any" {
                    XCTAssertTrue(error is AudioError, "\(name): \(error)")
                } else {
                    XCTAssertEqual(got, want, "\(name): \(error)")
                }
                if let note = e["note"] as? String, want == "unsupportedFormat" {
                    XCTAssertTrue("\(error)".contains(note), "\(name): '\(error)' should name \(note)")
                    XCTAssertTrue("\(error)".contains("ffmpeg -i"), "\(name): '\(error)' should say how to convert")
                }
            }
        }
    }

    func testLimits() throws {
        let data = try AudioFixtures.data("speech_16k.wav")
        XCTAssertThrowsError(try AudioDecoder.decode(data, limits: AudioLimits(maxSeconds: 1, maxBytes: 1 << 30))) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooLong")
        }
        XCTAssertThrowsError(try AudioDecoder.decode(data, limits: AudioLimits(maxSeconds: 100, maxBytes: 1000))) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooLarge")
        }
        let flac = try AudioFixtures.data("speech_16k_q5.flac")
        XCTAssertThrowsError(try AudioDecoder.decode(flac, limits: AudioLimits(maxSeconds: 1, maxBytes: 1 << 30))) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooLong")
        }
        XCTAssertThrowsError(try AudioDecoder.decode(contentsOf: URL(fileURLWithPath: "/nonexistent/x.wav"))) {
            XCTAssertEqual(AudioFixtures.kind($0), "io")
        }
        XCTAssertThrowsError(try AudioDecoder.decode(Data())) { XCTAssertEqual(AudioFixtures.kind($0), "empty") }
        XCTAssertEqual(AudioLimits.default.maxSeconds, 7200)
    }

    /// A FLAC without a known total length (STREAMINFO total 0) still decodes, and the limit still applies.
    func testFLACUnknownTotal() throws {
        var d = try AudioFixtures.data("speech_16k_q5.flac")
        // STREAMINFO starts at byte 8; total samples = low 36 bits of bytes 21..<26 (after rate/channels/bps)
        d[21] &= 0xF0
        for i in 22..<26 { d[i] = 0 }
        let full = try AudioDecoder.decode(contentsOf: AudioFixtures.url("speech_16k_q5.flac"))
        XCTAssertEqual(try AudioDecoder.decode(d), full)
        XCTAssertThrowsError(try AudioDecoder.decode(d, limits: AudioLimits(maxSeconds: 1, maxBytes: 1 << 30))) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooLong")
        }
    }

    /// Seeded mutations of valid files: decoding must return or throw an AudioError, never crash or hang.
    func testFuzzedInputsNeverCrash() throws {
        let files = ["pcm_16.wav", "pcm_24_extensible.wav", "pcm_16_rifx.wav", "pcm_24_rf64.wav", "chunks_odd.wav",
                     "pcm_24_stereo.flac", "mini_variable_mono24.flac", "pcm_u8_stereo.flac", "silence_16k.flac",
                     "mini_variable_stereo16.flac", "ms_stereo_16k.flac", "speech_16k_lax_b192.flac"]
        var rng = SplitMix64(seed: 20261128)
        let limits = AudioLimits(maxSeconds: 30, maxBytes: 1 << 24)
        var decoded = 0, failed = 0
        for name in files {
            let original = [UInt8](try AudioFixtures.data(name))
            for _ in 0..<200 {
                var b = original
                for _ in 0..<(1 + rng.int(4)) {
                    switch rng.int(7) {
                    case 0: if !b.isEmpty { b[rng.int(b.count)] ^= UInt8(1 << rng.int(8)) }
                    case 1: if !b.isEmpty { b[rng.int(b.count)] = UInt8(rng.int(256)) }
                    case 2:  // header-area size fields
                        let at = rng.int(min(b.count, 64))
                        let v: [UInt8] = [[0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0x7F]][rng.int(3)]
                        for k in 0..<4 where at + k < b.count { b[at + k] = v[k] }
                    case 3: b = Array(b.prefix(rng.int(b.count + 1)))
                    case 4:
                        if b.count > 8 {
                            let a = rng.int(b.count), n = rng.int(min(64, b.count - a))
                            b.insert(contentsOf: b[a..<(a + n)], at: rng.int(b.count))
                        }
                    case 5:
                        if b.count > 8 { let a = rng.int(b.count); b.removeSubrange(a..<min(b.count, a + 1 + rng.int(32))) }
                    default:
                        if !b.isEmpty { let a = rng.int(b.count); for k in a..<min(b.count, a + 16) { b[k] = 0 } }
                    }
                }
                do {
                    let c = try AudioDecoder.decode(Data(b), limits: limits)
                    XCTAssertFalse(c.samples.isEmpty)
                    XCTAssertLessThanOrEqual(c.duration, limits.maxSeconds)
                    decoded += 1
                } catch is AudioError {
                    failed += 1
                }
            }
        }
        XCTAssertGreaterThan(failed, 100)  // the mutations do reach the error paths
        XCTAssertGreaterThan(decoded, 10)
    }
}
