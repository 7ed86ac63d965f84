import Foundation
import PhiTensor

/// All tensors of a model, by checkpoint name, across one or more safetensors files.
///
/// Opening validates every file and the shard index up front, so a model either loads
/// completely or fails with one clear message. The store records which names were requested,
/// so a loader can bind strictly: after building a model, `unusedNames()` lists checkpoint keys
/// that no parameter consumed.
public final class WeightStore: @unchecked Sendable {
    /// The directory the weights came from (the first file's directory for `init(files:)`).
    public let directory: URL
    /// The opened files, in the order they were given or listed.
    public let files: [SafetensorsFile]
    /// Tensor names, sorted.
    public let names: [String]

    private let fileForName: [String: SafetensorsFile]
    private let lock = NSLock()
    private var used: Set<String> = []

    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"
    /// Index files larger than this are rejected before reading (real ones are well under 1 MB).
    public static let maxIndexBytes = 64 << 20

    /// Opens a model directory: the shards named by model.safetensors.index.json if present,
    /// else model.safetensors, else every *.safetensors file in the directory (sorted by name).
    /// A path to a single .safetensors file is accepted too.
    public convenience init(directory: URL) throws(WeightsError) {
        let dir = directory.standardizedFileURL
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: dir.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            try self.init(files: [dir])
            return
        }
        let indexURL = dir.appendingPathComponent(Self.indexFileName)
        if fm.fileExists(atPath: indexURL.path) {
            let index = try WeightIndex(url: indexURL)
            var shardFiles: [String: SafetensorsFile] = [:]
            for shard in index.shardNames {
                let shardURL = dir.appendingPathComponent(shard)
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: shardURL.path, isDirectory: &isDir), !isDir.boolValue else {
                    throw WeightsError.missingShard(shard: shard, index: indexURL.path)
                }
                shardFiles[shard] = try SafetensorsFile(url: shardURL)
            }
            try index.check(against: shardFiles)
            try self.init(directory: dir, files: index.shardNames.compactMap { shardFiles[$0] })
            return
        }
        let single = dir.appendingPathComponent(Self.singleFileName)
        if fm.fileExists(atPath: single.path) {
            try self.init(directory: dir, files: [SafetensorsFile(url: single)])
            return
        }
        let listing: [String]
        do {
            listing = try fm.contentsOfDirectory(atPath: dir.path)
        } catch {
            throw WeightsError.io(file: dir.path, reason: "cannot list the directory: \(error.localizedDescription)")
        }
        let candidates = listing.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }.sorted()
        guard !candidates.isEmpty else { throw WeightsError.noWeights(directory: dir.path) }
        var opened: [SafetensorsFile] = []
        for name in candidates {
            opened.append(try SafetensorsFile(url: dir.appendingPathComponent(name)))
        }
        try self.init(directory: dir, files: opened)
    }

    /// Opens exactly these files as one store.
    public convenience init(files: [URL]) throws(WeightsError) {
        guard let first = files.first else { throw WeightsError.noWeights(directory: "(no files given)") }
        var opened: [SafetensorsFile] = []
        for url in files {
            opened.append(try SafetensorsFile(url: url))
        }
        try self.init(directory: first.deletingLastPathComponent(), files: opened)
    }

    /// Builds a store from already-opened files; a name in two files is an error.
    public init(directory: URL, files: [SafetensorsFile]) throws(WeightsError) {
        var map: [String: SafetensorsFile] = [:]
        for file in files {
            for name in file.names {
                if let other = map[name] {
                    throw WeightsError.duplicateTensor(name: name, files: [other.path, file.path])
                }
                map[name] = file
            }
        }
        self.directory = directory
        self.files = files
        self.fileForName = map
        self.names = map.keys.sorted()
    }

    public func contains(_ name: String) -> Bool { fileForName[name] != nil }

    /// The dtype string (verbatim from the header) and shape, without marking the name used.
    public func info(_ name: String) -> (dtype: String, shape: [Int])? {
        guard let e = fileForName[name]?.entry(name) else { return nil }
        return (e.dtype, e.shape)
    }

    /// The file holding `name`, for messages and raw access.
    public func file(for name: String) -> SafetensorsFile? { fileForName[name] }

    /// A zero-copy view of the tensor; marks the name as used.
    public func tensor(_ name: String) throws(WeightsError) -> Tensor {
        guard let file = fileForName[name] else {
            throw WeightsError.missingTensor(name: name, directory: directory.path)
        }
        markUsed(name)
        return try file.tensor(named: name)
    }

    /// Like `tensor(_:)`, and checks that the checkpoint's shape is the one the model expects.
    public func tensor(_ name: String, shape expected: [Int]) throws(WeightsError) -> Tensor {
        guard let file = fileForName[name], let e = file.entry(name) else {
            throw WeightsError.missingTensor(name: name, directory: directory.path)
        }
        guard e.shape == expected else {
            throw WeightsError.shapeMismatch(name: name, shape: e.shape, expected: expected, file: file.path)
        }
        return try tensor(name)
    }

    /// Marks names as consumed without loading them (e.g. keys a model deliberately ignores,
    /// such as rotary caches stored by some exporters).
    public func markUsed(_ name: String) {
        lock.lock()
        used.insert(name)
        lock.unlock()
    }

    /// Names in the store that were never requested, sorted.
    public func unusedNames() -> [String] {
        lock.lock()
        let snapshot = used
        lock.unlock()
        return names.filter { !snapshot.contains($0) }
    }
}
