#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary name that is renamed into place by `commit()`, so a failed or
/// interrupted write never leaves a partial file under the final name (nor a stray temporary one).
final class AtomicFileWriter {
    let path: String
    private let tmpPath: String
    private let fp: UnsafeMutablePointer<FILE>
    private var finished = false

    init(path: String) throws(WeightsError) {
        self.path = path
        tmpPath = path + ".tmp-\(getpid())"
        guard let fp = fopen(tmpPath, "wb") else {
            throw WeightsError.writeFailed(file: path, reason: "cannot create \(tmpPath): \(String(cString: strerror(errno)))")
        }
        self.fp = fp
    }

    deinit {
        if !finished { fclose(fp); unlink(tmpPath) }
    }

    func put(_ chunk: [UInt8]) throws(WeightsError) {
        let written = chunk.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, fp) }
        guard written == chunk.count else {
            throw WeightsError.writeFailed(file: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// The bytes of tensor `name` from a caller's producer, its failures reported as write failures.
    func produce(_ name: String, _ body: () throws -> [UInt8]) throws(WeightsError) -> [UInt8] {
        do {
            return try body()
        } catch let error as WeightsError {
            throw error
        } catch {
            throw WeightsError.writeFailed(file: path, reason: "producing tensor '\(name)' failed: \(error)")
        }
    }

    /// Closes the file and moves it into place.
    func commit() throws(WeightsError) {
        finished = true
        guard fclose(fp) == 0 else {
            unlink(tmpPath)
            throw WeightsError.writeFailed(file: path, reason: "closing failed: \(String(cString: strerror(errno)))")
        }
        guard rename(tmpPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmpPath)
            throw WeightsError.writeFailed(file: path, reason: "cannot rename \(tmpPath) into place: \(reason)")
        }
    }
}
