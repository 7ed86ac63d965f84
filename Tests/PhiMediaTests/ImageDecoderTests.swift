import Foundation
import XCTest
@testable import PhiMedia
import PhiTestSupport

final class ImageDecoderTests: XCTestCase {
    func testChecksumHelper() {
        // Values from tools/media/make_image_fixtures.py `checksum`.
        XCTAssertEqual(FixtureChecksum.hex([]), "00000000000000000000000000000000")
        XCTAssertEqual(FixtureChecksum.hex([1, 2, 3]), "a708a824f612c9265c55827f1b3e0463")
        XCTAssertNotEqual(FixtureChecksum.hex([1, 2, 3]), FixtureChecksum.hex([1, 2, 4]))
    }

    /// Every good fixture decodes to exactly Pillow's `Image.open(f).convert("RGB")`.
    func testDecodeMatchesPillow() throws {
        let manifest = try ImageFixtures.manifest()
        var checked = 0
        for entry in manifest.decode where entry.error == nil {
            let url = try ImageFixtures.input(entry.file)
            let image: RGBImage
            do {
                image = try ImageDecoder.decode(contentsOf: url)
            } catch {
                XCTFail("\(entry.file): \(error)")
                continue
            }
            XCTAssertEqual(image.width, entry.width, entry.file)
            XCTAssertEqual(image.height, entry.height, entry.file)
            XCTAssertEqual(image.pixels.count, image.width * image.height * 3, entry.file)
            let digest = FixtureChecksum.hex(image.pixels)
            if let rgb = entry.rgb {
                XCTAssertEqual(maxLevelDifference(image.pixels, rgb), 0, "\(entry.file) (Pillow mode \(entry.mode ?? "?"))")
            }
            XCTAssertEqual(digest, entry.rgb_checksum, "\(entry.file) (Pillow mode \(entry.mode ?? "?")) differs from Pillow")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 40)
    }

    /// Damaged, unsupported and oversized inputs give the expected error, naming the file.
    func testBadInputsGiveClearErrors() throws {
        let manifest = try ImageFixtures.manifest()
        var checked = 0
        for entry in manifest.decode {
            guard let expected = entry.error else { continue }
            let url = try ImageFixtures.input(entry.file)
            do {
                let image = try ImageDecoder.decode(contentsOf: url)
                XCTFail("\(entry.file): decoded \(image.width)x\(image.height), expected \(expected)")
            } catch let error as ImageError {
                XCTAssertEqual(Self.kind(error), expected, "\(entry.file): \(error)")
                XCTAssertTrue(error.description.contains(entry.file), "message should name the file: \(error)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 14)
    }

    static func kind(_ error: ImageError) -> String {
        switch error {
        case .emptyInput: return "emptyInput"
        case .encodedTooLarge: return "encodedTooLarge"
        case .unsupportedFormat(_, let format): return "unsupportedFormat:\(format)"
        case .unrecognizedFormat: return "unrecognizedFormat"
        case .unsupportedVariant: return "unsupportedVariant"
        case .corrupt: return "corrupt"
        case .truncated: return "truncated"
        case .tooManyPixels: return "tooManyPixels"
        case .tooManyImages: return "tooManyImages"
        case .invalidDimensions: return "invalidDimensions"
        case .extremeAspectRatio: return "extremeAspectRatio"
        case .readFailed: return "readFailed"
        case .outOfMemory: return "outOfMemory"
        case .invalidParameter: return "invalidParameter"
        }
    }

    func testUnsupportedFormatMessageSaysHowToConvert() throws {
        let url = try ImageFixtures.input("image.webp")
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("WebP"), text)
            XCTAssertTrue(text.contains("image.webp"), text)
            XCTAssertTrue(text.contains("image.png"), text) // the suggested conversion target
        }
    }

    func testLimitsAreCheckedBeforeDecoding() throws {
        let url = try ImageFixtures.input("big_3000x2900.png")
        var limits = ImageLimits.default
        limits.maxPixels = 3000 * 2900 - 1
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url, limits: limits)) { error in
            XCTAssertEqual(Self.kind(error as? ImageError ?? .emptyInput(source: nil)), "tooManyPixels")
            XCTAssertTrue(String(describing: error).contains("3000x2900"), "\(error)")
        }
        limits = .default
        limits.maxEncodedBytes = 1000
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url, limits: limits)) { error in
            XCTAssertEqual(Self.kind(error as? ImageError ?? .emptyInput(source: nil)), "encodedTooLarge")
        }
        XCTAssertThrowsError(try ImageDecoder.decode(Data(count: 2000), limits: limits))
        // JPEG too: a header that claims 65000 x 65000 is refused by the default limit.
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: ImageFixtures.input("huge_dims.jpg"))) { error in
            XCTAssertTrue(String(describing: error).contains("65000x65000"), "\(error)")
        }
        XCTAssertEqual(ImageLimits.default.maxPixels, 8192 * 8192)
        XCTAssertGreaterThanOrEqual(ImageLimits.default.maxPixels, 50_000_000)
        XCTAssertEqual(ImageLimits.default.maxImagesPerPrompt, 16)
        XCTAssertNoThrow(try ImageLimits.default.checkImageCount(16))
        XCTAssertThrowsError(try ImageLimits.default.checkImageCount(17))
    }

    func testMissingFileAndDirectory() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/phikit/x.jpg")
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: missing)) { error in
            XCTAssertTrue(String(describing: error).contains("/nonexistent/phikit/x.jpg"), "\(error)")
        }
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: ImageFixtures.directory))
        if FileManager.default.fileExists(atPath: "/dev/zero") { // a device must not be read (it never ends)
            XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/dev/zero")))
        }
        XCTAssertThrowsError(try ImageDecoder.decode(Data())) { error in
            XCTAssertEqual(Self.kind(error as? ImageError ?? .outOfMemory(source: nil)), "emptyInput")
        }
    }

    func testRGBImageValidatesCount() {
        XCTAssertNoThrow(try RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6]))
        XCTAssertThrowsError(try RGBImage(width: 2, height: 1, pixels: [1, 2, 3]))
        XCTAssertThrowsError(try RGBImage(width: 0, height: 1, pixels: []))
        XCTAssertThrowsError(try RGBImage(width: Int.max, height: 2, pixels: []))
    }

    /// Every prefix of a JPEG and a PNG, and seeded byte corruptions, decode or throw; none crash or hang.
    func testTruncationsAndCorruptionsNeverCrash() throws {
        for name in ["jpeg_progressive.jpg", "jpeg_baseline_420.jpg", "png_rgb8_interlaced.png", "png_palette4.png"] {
            let data = try Data(contentsOf: ImageFixtures.input(name))
            var failures = 0
            for length in stride(from: 0, to: data.count, by: max(1, data.count / 150)) {
                do { _ = try ImageDecoder.decode(data.prefix(length)) } catch { failures += 1 }
            }
            XCTAssertGreaterThan(failures, 100, name) // nearly every prefix is an error
            var rng = SplitMix64(seed: 42)
            for _ in 0..<150 {
                var bytes = [UInt8](data)
                for _ in 0..<4 {
                    let at = 2 + Int(rng.next() % UInt64(bytes.count - 2)) // keep the signature
                    bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                }
                if let image = try? ImageDecoder.decode(Data(bytes)) {
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                }
            }
        }
    }
}
