import Foundation
import XCTest
@testable import PhiMedia

/// Fixtures written by tools/media/make_image_fixtures.py (Pillow 11.3.0, torch 2.13.0 on the original processor).
struct ImageManifest: Decodable {
    struct DecodeEntry: Decodable {
        let file: String
        let error: String?
        let pillow: String?
        let mode: String?
        let width: Int?
        let height: Int?
        let rgb_checksum: String?
        let rgb: [UInt8]?
    }
    struct ProcessingEntry: Decodable {
        let file: String
        let columns: Int
        let rows: Int
        let tokenCount: Int
        let imageSize: [Int]
        let hd_checksum: String
        let mask_checksum: String
        let hd_png: String?
        let global_indices: [Int]
        let global_values: [Float]
        let global_sum: Double
        let global_abs_sum: Double
    }
    let decode: [DecodeEntry]
    let processing: [ProcessingEntry]
    let tokenSweep: [[Int]]
}

enum ImageFixtures {
    static var directory: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
                throw XCTSkip("fixture bundle missing")
            }
            return url.appendingPathComponent("images")
        }
    }

    static func input(_ name: String) throws -> URL { try directory.appendingPathComponent("inputs/\(name)") }

    static func manifest() throws -> ImageManifest {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(ImageManifest.self, from: data)
    }
}

/// The fixtures' checksum (tools/media/make_image_fixtures.py `checksum`): with w_i = (i + 1) * 0x9E3779B97F4A7C15
/// and w'_i = w_i ^ (w_i >> 29), the sums of b_i * w_i and (b_i + 1) * w'_i mod 2^64. Unlike SHA-256 it is fast in a
/// debug build, and any single changed byte changes it.
enum FixtureChecksum {
    static func hex(_ bytes: [UInt8]) -> String {
        var s1: UInt64 = 0, s2: UInt64 = 0
        bytes.withUnsafeBufferPointer { b in
            var w: UInt64 = 0
            for i in 0..<b.count {
                w &+= 0x9E37_79B9_7F4A_7C15
                let v = UInt64(b[i])
                s1 &+= v &* w
                s2 &+= (v &+ 1) &* (w ^ (w >> 29))
            }
        }
        return hex16(s1) + hex16(s2)
    }

    private static func hex16(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Largest absolute difference between two byte arrays of equal length (Int.max if the lengths differ).
func maxLevelDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    guard a.count == b.count else { return Int.max }
    var m: Int32 = 0
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            for i in 0..<a.count { m = max(m, abs(Int32(a[i]) - Int32(b[i]))) }
        }
    }
    return Int(m)
}
