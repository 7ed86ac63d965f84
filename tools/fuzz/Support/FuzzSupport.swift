import Foundation

/// Helpers shared by the harnesses: the file-based loaders (GGUF, safetensors, index) are fuzzed through their
/// public entry points, so each input is written to a file in a per-process scratch folder first.
public enum FuzzSupport {
    /// A scratch folder on tmpfs when there is one (each execution rewrites a file in it).
    public static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("phikit-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: FuzzSupport.directory) }
        return url
    }()

    /// Writes the input to `name` in the scratch folder and returns its URL.
    public static func file(_ data: UnsafePointer<UInt8>, _ size: Int, name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
        return url
    }

    public static func data(_ data: UnsafePointer<UInt8>, _ size: Int) -> Data { Data(bytes: data, count: size) }
}
