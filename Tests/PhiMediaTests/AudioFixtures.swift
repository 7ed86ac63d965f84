import Foundation
import XCTest
@testable import PhiMedia

/// Fixture access for the audio tests (Fixtures/audio, built by tools/media/make_audio_fixtures.py).
enum AudioFixtures {
    static var directory: URL {
        get throws {
            let base = try XCTUnwrap(Bundle.module.resourceURL, "test bundle has no resources")
            return base.appendingPathComponent("Fixtures/audio")
        }
    }

    static func url(_ name: String) throws -> URL { try directory.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    static func manifest() throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: data("manifest.json"))
        return try XCTUnwrap(obj as? [String: Any], "manifest.json is not an object")
    }

    static func entries(_ key: String) throws -> [[String: Any]] {
        try XCTUnwrap(manifest()[key] as? [[String: Any]], "manifest has no '\(key)' list")
    }

    /// Little-endian float32 file.
    static func floats(_ name: String) throws -> [Float] {
        let d = try data(name)
        XCTAssertEqual(d.count % 4, 0)
        return d.withUnsafeBytes { raw in
            (0..<(d.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// FNV-1a 64 over the little-endian float32 bytes (same as fnv64 in make_audio_fixtures.py).
    static func fnv64(_ x: [Float]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in x {
            var b = v.bitPattern.littleEndian
            for _ in 0..<4 {
                h ^= UInt64(b & 0xFF)
                h = h &* 0x100_0000_01B3
                b >>= 8
            }
        }
        return String(format: "%016llx", h)
    }

    static func kind(_ e: Error) -> String {
        guard let a = e as? AudioError else { return "non-AudioError \(type(of: e))" }
        switch a {
        case .empty: return "empty"
        case .truncated: return "truncated"
        case .corrupt: return "corrupt"
        case .checksumMismatch: return "checksumMismatch"
        case .unsupportedFormat: return "unsupportedFormat"
        case .unsupportedEncoding: return "unsupportedEncoding"
        case .tooLarge: return "tooLarge"
        case .tooLong: return "tooLong"
        case .tooManySamples: return "tooManySamples"
        case .tooShort: return "tooShort"
        case .invalidSampleRate: return "invalidSampleRate"
        case .nonFiniteSamples: return "nonFiniteSamples"
        case .io: return "io"
        }
    }

    /// SNR in dB of `y` against the reference `ref` over ref's indices `range`.
    static func snr(_ y: [Float], _ ref: [Float], _ range: Range<Int>) -> Double {
        var s = 0.0, e = 0.0
        for i in range {
            s += Double(ref[i]) * Double(ref[i])
            let d = Double(y[i]) - Double(ref[i])
            e += d * d
        }
        return 10 * log10(s / max(e, 1e-300))
    }
}
