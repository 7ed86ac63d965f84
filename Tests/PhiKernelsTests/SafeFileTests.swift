#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PhiKernels
import XCTest

/// Issue 10, finding 5: a FIFO named as a model or media file blocked forever in open(); devices and directories
/// must be refused by type, and sizes checked before reading.
final class SafeFileTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("safefile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Runs `body` on another thread and fails (instead of hanging the suite) when it takes over 20 s.
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

    private func fifo(_ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        guard mkfifo(path, 0o600) == 0 else { throw XCTSkip("mkfifo failed: \(String(cString: strerror(errno)))") }
        return path
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        let path = try fifo("model.gguf")
        let read = withinTimeout { Result { try SafeFile.read(path: path, limit: 1 << 20) } }
        guard case .failure(let error)? = read else { return XCTFail("read a FIFO: \(String(describing: read))") }
        XCTAssertEqual(error as? SafeFileError, .notRegularFile(path: path, kind: "a FIFO (named pipe)"))
        XCTAssertTrue("\(error)".contains("FIFO"), "\(error)")
        let mapped = withinTimeout { Result { try MappedFile(path: path) } }
        guard case .failure(let mapError)? = mapped else { return XCTFail("mapped a FIFO") }
        XCTAssertTrue("\(mapError)".contains("not a regular file"), "\(mapError)")
    }

    func testDevicesDirectoriesAndMissingFiles() throws {
        XCTAssertThrowsError(try SafeFile.read(path: "/dev/zero", limit: 100)) {
            XCTAssertEqual($0 as? SafeFileError, .notRegularFile(path: "/dev/zero", kind: "a character device"))
        }
        XCTAssertThrowsError(try SafeFile.read(path: dir.path, limit: 100)) {
            XCTAssertEqual(($0 as? SafeFileError)?.reason, "not a regular file: it is a directory")
        }
        let missing = dir.appendingPathComponent("nope.json").path
        XCTAssertThrowsError(try SafeFile.read(path: missing, limit: 100)) {
            XCTAssertEqual($0 as? SafeFileError, .cannotOpen(path: missing, reason: "no such file"))
            XCTAssertEqual("\($0)", "cannot read \(missing): no such file")
        }
    }

    func testSizeLimitAndContents() throws {
        let url = dir.appendingPathComponent("config.json")
        let bytes = Data((0..<1000).map { UInt8($0 % 251) })
        try bytes.write(to: url)
        XCTAssertEqual(try SafeFile.read(url, limit: 1000), bytes)
        XCTAssertEqual(try SafeFile.size(path: url.path), 1000)
        XCTAssertThrowsError(try SafeFile.read(url, limit: 999)) {
            XCTAssertEqual($0 as? SafeFileError, .tooLarge(path: url.path, bytes: 1000, limit: 999))
        }
        let empty = dir.appendingPathComponent("empty")
        try Data().write(to: empty)
        XCTAssertEqual(try SafeFile.read(empty, limit: 0), Data())
    }
}
