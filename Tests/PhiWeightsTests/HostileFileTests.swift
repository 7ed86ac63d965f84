#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import XCTest
@testable import PhiWeights

/// Issue 10, finding 5: a FIFO given as a `.gguf`, `model.safetensors`, index or `.npy` blocked forever in open().
final class HostileFileTests: TempDirTestCase {
    private func fifo(_ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        guard mkfifo(url.path, 0o600) == 0 else { throw XCTSkip("mkfifo failed") }
        return url
    }

    /// Runs `body` on another thread; nil (and a failure) when it blocks for 20 s.
    private func errorWithinTimeout(_ body: @escaping @Sendable () throws -> Void) -> String? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var message: String?
        Thread {
            do { try body(); message = "no error" } catch { message = "\(error)" }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + 20) == .success else {
            XCTFail("blocked for 20 s")
            return nil
        }
        return message
    }

    func testFIFOWeightsAreRefusedWithoutBlocking() throws {
        let gguf = try fifo("model.gguf")
        let g = errorWithinTimeout { _ = try GGUFFile(url: gguf) }
        XCTAssertEqual(g, "model.gguf: cannot open: not a regular file: it is a FIFO (named pipe)")

        let st = try fifo("model.safetensors")
        let s = errorWithinTimeout { _ = try WeightStore(directory: st.deletingLastPathComponent()) }
        XCTAssertTrue(s?.contains("model.safetensors") == true && s?.contains("FIFO") == true, s ?? "")

        let npy = try fifo("x.npy")
        let n = errorWithinTimeout { _ = try NpyReader.read(path: npy.path) }
        XCTAssertTrue(n?.contains("FIFO") == true, n ?? "")
    }

    func testFIFOIndexIsRefusedWithoutBlocking() throws {
        _ = try fifo("model.safetensors.index.json")
        let dir = self.dir!
        let i = errorWithinTimeout { _ = try WeightStore(directory: dir) }
        XCTAssertTrue(i?.contains("model.safetensors.index.json") == true && i?.contains("FIFO") == true, i ?? "")
    }
}
