import Foundation
import XCTest
@testable import PhiMedia

final class AudioResamplerTests: XCTestCase {
    /// Against soxr VHQ on tone | chirp | band-limited noise (content up to 0.85 × the lower Nyquist).
    /// Lengths: ours ⌈N·16000/from⌉ (resample_poly's), soxr's rounds; compared over the common length minus 20 ms edges.
    func testMatchesSoxrVHQ() throws {
        var report: [String] = []
        for e in try AudioFixtures.entries("resample") {
            let name = try XCTUnwrap(e["file"] as? String), rate = try XCTUnwrap(e["from"] as? Int)
            let clip = try AudioDecoder.decode(contentsOf: AudioFixtures.url(name))
            XCTAssertEqual(clip.sampleRate, rate)
            let y = try AudioResampler.resample(clip.samples, from: rate, to: 16000)
            XCTAssertEqual(y.count, (clip.samples.count * 16000 + rate - 1) / rate, name)
            let ref = try AudioFixtures.floats(try XCTUnwrap(e["reference"] as? String))
            XCTAssertLessThanOrEqual(abs(ref.count - y.count), 1, name)
            let edge = 320, m = min(ref.count, y.count)
            let snr = AudioFixtures.snr(y, ref, edge..<(m - edge))
            var maxErr: Float = 0
            for i in edge..<(m - edge) { maxErr = max(maxErr, abs(y[i] - ref[i])) }
            report.append("\(rate): SNR \(String(format: "%.1f", snr)) dB, max |err| \(String(format: "%.2e", maxErr))")
            XCTAssertGreaterThan(snr, 75, "\(name) vs soxr VHQ")
            XCTAssertLessThan(maxErr, 5e-4, name)
        }
        print("resampler vs soxr VHQ: " + report.joined(separator: "; "))
    }

    /// Against scipy.signal.resample_poly given the same prototype filter (tools/media/make_audio_fixtures.py,
    /// phikit_filter): same length (⌈N·L/M⌉) and alignment; differences are Float rounding only.
    func testMatchesResamplePolyWithSameFilter() throws {
        var report: [String] = []
        var checked = 0
        for e in try AudioFixtures.entries("resample") {
            guard let refName = e["polyReference"] as? String else { continue }
            let name = try XCTUnwrap(e["file"] as? String), rate = try XCTUnwrap(e["from"] as? Int)
            let clip = try AudioDecoder.decode(contentsOf: AudioFixtures.url(name))
            let y = try AudioResampler.resample(clip.samples, from: rate, to: 16000)
            let ref = try AudioFixtures.floats(refName)
            XCTAssertEqual(y.count, ref.count, name)
            guard y.count == ref.count else { continue }
            let snr = AudioFixtures.snr(y, ref, 0..<ref.count)
            var maxErr: Float = 0
            for i in 0..<ref.count { maxErr = max(maxErr, abs(y[i] - ref[i])) }
            report.append("\(rate): SNR \(String(format: "%.1f", snr)) dB, max |err| \(String(format: "%.2e", maxErr))")
            XCTAssertGreaterThan(snr, 110, name)
            XCTAssertLessThan(maxErr, 1e-5, name)
            checked += 1
        }
        XCTAssertEqual(checked, 4)
        print("resampler vs resample_poly (same filter): " + report.joined(separator: "; "))
    }

    private func tone(_ f: Double, rate: Int, count: Int, amp: Double = 0.5) -> [Float] {
        (0..<count).map { Float(amp * sin(2 * Double.pi * f * Double($0) / Double(rate) + 0.25)) }
    }

    /// Passband: a tone below 0.9 × Nyquist comes out as the ideal tone at the new rate (zero delay).
    func testPassbandToneIsExact() throws {
        for (from, to, f) in [(44100, 16000, 7000.0), (48000, 16000, 300.0), (8000, 16000, 3500.0), (22050, 16000, 5000.0),
                              (96000, 16000, 7100.0), (11025, 16000, 4900.0)] {
            let x = tone(f, rate: from, count: from / 2)
            let y = try AudioResampler.resample(x, from: from, to: to)
            let ideal = tone(f, rate: to, count: y.count)
            let snr = AudioFixtures.snr(y, ideal, (to / 20)..<(y.count - to / 20))
            XCTAssertGreaterThan(snr, 80, "\(from)→\(to) at \(f) Hz")
        }
    }

    /// Stopband: tones above the lower Nyquist are removed by at least 85 dB (no aliasing / imaging).
    func testStopbandAttenuation() throws {
        for (from, to, f) in [(44100, 16000, 8000.0), (44100, 16000, 9500.0), (48000, 16000, 15000.0), (32000, 16000, 8100.0)] {
            let x = tone(f, rate: from, count: from / 2)
            let y = try AudioResampler.resample(x, from: from, to: to)
            var p = 0.0
            let r = (to / 20)..<(y.count - to / 20)
            for i in r { p += Double(y[i]) * Double(y[i]) }
            let db = 10 * log10(p / Double(r.count) / 0.125)  // relative to the input power 0.5²/2
            XCTAssertLessThan(db, -85, "\(from)→\(to) at \(f) Hz")
        }
        // upsampling: 8 kHz content near 4 kHz must not leave an image above 4 kHz
        let x = tone(3500, rate: 8000, count: 4000)
        let y = try AudioResampler.resample(x, from: 8000, to: 16000)
        let ideal = tone(3500, rate: 16000, count: y.count)
        XCTAssertGreaterThan(AudioFixtures.snr(y, ideal, 800..<(y.count - 800)), 80)
    }

    func testEdgesAndErrors() throws {
        XCTAssertEqual(try AudioResampler.resample([1, 2, 3], from: 16000, to: 16000), [1, 2, 3])
        XCTAssertEqual(try AudioResampler.resample([], from: 44100, to: 16000), [])
        XCTAssertEqual(try AudioResampler.resample([0.5], from: 44100, to: 16000).count, 1)
        XCTAssertEqual(try AudioResampler.resample([Float](repeating: 0, count: 441), from: 44100, to: 16000).count, 160)
        XCTAssertThrowsError(try AudioResampler.resample([1], from: 0, to: 16000)) {
            XCTAssertEqual(AudioFixtures.kind($0), "invalidSampleRate")
        }
        XCTAssertThrowsError(try AudioResampler.resample([1], from: 16000, to: 10_000_000))
        // a coprime pair whose polyphase table would exceed the cap is refused before building it
        XCTAssertThrowsError(try AudioResampler.resample([1], from: 767_999, to: 16000)) {
            XCTAssertEqual(AudioFixtures.kind($0), "unsupportedEncoding")
            XCTAssertTrue("\($0)".contains("48000"))
        }
        // DC passes with unit gain
        let y = try AudioResampler.resample([Float](repeating: 0.25, count: 4410), from: 44100, to: 16000)
        for v in y[200..<1400] { XCTAssertEqual(v, 0.25, accuracy: 1e-4) }
        // an odd coprime rate still works
        let z = try AudioResampler.resample(tone(1000, rate: 44101, count: 4410), from: 44101, to: 16000)
        XCTAssertGreaterThan(AudioFixtures.snr(z, tone(1000, rate: 16000, count: z.count), 200..<(z.count - 200)), 80)
    }
}
