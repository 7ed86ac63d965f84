import Foundation
import PhiKernels

/// Reads the small JSON files of a model folder (config.json, adapter configs, generation_config.json) through
/// `SafeFile`: a FIFO or device named config.json is an error instead of a hang, and size is bounded before reading.
public enum ModelFile {
    /// Configs are a few KB; 16 MiB leaves room for any published one.
    public static let maxConfigBytes = 16 << 20

    /// The file's bytes; a file that does not exist is `ModelError.missingFile`, anything else that cannot be read
    /// (not a regular file, too large, no permission) names the file and the reason.
    public static func read(_ url: URL, limit: Int = maxConfigBytes) throws -> Data {
        do {
            return try SafeFile.read(url, limit: limit)
        } catch {
            if case .cannotOpen = error, !FileManager.default.fileExists(atPath: url.path) {
                throw ModelError.missingFile(url.path)
            }
            throw ModelError.malformedConfig(file: url.path, reason: error.reason)
        }
    }

    /// The file's bytes, or nil when it does not exist (optional files); other failures throw as `read`.
    public static func readIfPresent(_ url: URL, limit: Int = maxConfigBytes) throws -> Data? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try read(url, limit: limit)
    }
}
