#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import XCTest
@testable import PhiMedia

/// Issue 10, findings 4–6: decompression bombs, FIFOs and devices named as media files.
final class HostileMediaTests: XCTestCase {
    /// The FLAC bomb: STREAMINFO 768 kHz mono 16-bit, block size 65,535, then `frames` copies of one 13-byte
    /// frame holding a CONSTANT subframe (valid CRCs). `declaredTotal` goes into STREAMINFO (0: unknown).
    static func flacBomb(frames: Int, declaredTotal: Int = 0, rate: Int = 768_000) -> Data {
        var out: [UInt8] = Array("fLaC".utf8) + [0x80, 0, 0, 34]  // last metadata block: STREAMINFO, 34 bytes
        out += [0xFF, 0xFF, 0xFF, 0xFF]  // min/max block size 65,535
        out += [0, 0, 0, 0, 0, 0]  // min/max frame size unknown
        // rate (20 bits) | channels − 1 (3) | bits − 1 (5) | total samples (36)
        let packed = UInt64(rate) << 44 | UInt64(0) << 41 | UInt64(15) << 36 | UInt64(declaredTotal)
        for k in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: packed >> UInt64(k))) }
        out += [UInt8](repeating: 0, count: 16)  // MD5 unknown
        // sync, fixed blocking | 16-bit block size − 1 at the end, rate from STREAMINFO | mono, bits from STREAMINFO |
        // frame number 0 | 65,534 | CRC-8
        var frame: [UInt8] = [0xFF, 0xF8, 0x70, 0x00, 0x00, 0xFF, 0xFE]
        frame.append(frame.withUnsafeBufferPointer { FLACCRC.crc8($0.baseAddress!, $0.count) })
        frame += [0x00, 0x12, 0x34]  // CONSTANT subframe, no wasted bits, value 0x1234
        let crc = frame.withUnsafeBufferPointer { FLACCRC.crc16($0.baseAddress!, $0.count) }
        frame += [UInt8(crc >> 8), UInt8(crc & 0xFF)]
        precondition(frame.count == 13)
        out.reserveCapacity(out.count + frames * 13)
        for _ in 0..<frames { out += frame }
        return Data(out)
    }

    func testBombBuilderMakesValidFLAC() throws {
        // 3 frames at 48 kHz decode to 196,605 samples of 0x1234 / 32768: the builder is a real FLAC stream
        let clip = try AudioDecoder.decode(Self.flacBomb(frames: 3, rate: 48_000))
        XCTAssertEqual(clip.sampleRate, 48_000)
        XCTAssertEqual(clip.samples.count, 3 * 65535)
        XCTAssertEqual(clip.samples.first, Float(0x1234) / 32768)
        XCTAssertEqual(Self.flacBomb(frames: 84_363).count, 84_363 * 13 + 42)
    }

    /// Finding 4: 84,363 frames (1.1 MB) asked for 8.6 GB. With the total unknown, the count is checked frame by
    /// frame before any output is allocated and stops at the sample cap.
    func testFLACBombWithUnknownTotalStopsAtTheSampleCap() throws {
        let bomb = Self.flacBomb(frames: 84_363)
        XCTAssertThrowsError(try AudioDecoder.decode(bomb)) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooManySamples", "\($0)")
            XCTAssertTrue("\($0)".contains("above the limit of \(AudioLimits.absoluteMaxSamples) samples"), "\($0)")
        }
        // a caller's smaller limits stop it sooner, in seconds or samples
        XCTAssertThrowsError(try AudioDecoder.decode(bomb, limits: AudioLimits(maxSeconds: 30, maxBytes: 1 << 30))) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooLong", "\($0)")
        }
        var limits = AudioLimits.default
        limits.maxSamples = 1_000_000
        XCTAssertThrowsError(try AudioDecoder.decode(bomb, limits: limits)) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooManySamples", "\($0)")
        }
    }

    /// The same bomb declaring its total is refused from STREAMINFO alone; one declaring less than it holds is corrupt.
    func testFLACBombWithDeclaredTotal() throws {
        let frames = 84_363
        let declared = Self.flacBomb(frames: frames, declaredTotal: frames * 65535)
        XCTAssertThrowsError(try AudioDecoder.decode(declared)) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooManySamples", "\($0)")
        }
        let lying = Self.flacBomb(frames: frames, declaredTotal: 65535)
        XCTAssertThrowsError(try AudioDecoder.decode(lying)) { XCTAssertEqual(AudioFixtures.kind($0), "corrupt", "\($0)") }
    }

    func testWAVSampleCap() throws {
        let wav = try AudioFixtures.data("speech_16k.wav")
        var limits = AudioLimits.default
        limits.maxSamples = 1000
        XCTAssertThrowsError(try AudioDecoder.decode(wav, limits: limits)) {
            XCTAssertEqual(AudioFixtures.kind($0), "tooManySamples", "\($0)")
        }
        XCTAssertEqual(AudioLimits.default.frameBudget(rate: 768_000), AudioLimits.absoluteMaxSamples)
        XCTAssertEqual(AudioLimits.default.frameBudget(rate: 16_000), 7200 * 16_000)
        XCTAssertEqual(AudioLimits(maxSeconds: .infinity, maxBytes: 1).frameBudget(rate: 16_000), AudioLimits.absoluteMaxSamples)
        XCTAssertEqual(AudioLimits(maxSeconds: .nan, maxBytes: 1).frameBudget(rate: 16_000), 0)
    }

    private func withinTimeout<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        Thread {
            result = body()
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + 20) == .success else {
            XCTFail("blocked for 20 s")
            return nil
        }
        return result
    }

    /// Findings 5 and 6: audio or an image on a FIFO blocked (or said "You don't have permission").
    func testFIFOAndDeviceMediaFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let audio = dir.appendingPathComponent("speech.wav"), image = dir.appendingPathComponent("photo.jpg")
        guard mkfifo(audio.path, 0o600) == 0, mkfifo(image.path, 0o600) == 0 else { throw XCTSkip("mkfifo failed") }
        let a = withinTimeout { Result { try AudioDecoder.decode(contentsOf: audio) } }
        guard case .failure(let ae)? = a else { return XCTFail("decoded a FIFO") }
        XCTAssertEqual(AudioFixtures.kind(ae), "io")
        XCTAssertEqual("\(ae)", "cannot read audio file: \(audio.path): not a regular file: it is a FIFO (named pipe)")
        XCTAssertFalse("\(ae)".contains("permission"))
        let i = withinTimeout { Result { try ImageDecoder.decode(contentsOf: image) } }
        guard case .failure(let ie)? = i else { return XCTFail("decoded a FIFO") }
        XCTAssertTrue("\(ie)".contains("FIFO"), "\(ie)")
        XCTAssertThrowsError(try AudioDecoder.decode(contentsOf: URL(fileURLWithPath: "/dev/zero"))) {
            XCTAssertTrue("\($0)".contains("character device"), "\($0)")
        }
        XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/dev/zero"))) {
            XCTAssertTrue("\($0)".contains("character device"), "\($0)")
        }
    }
}
