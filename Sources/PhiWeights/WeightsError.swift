import PhiKernels
/// Every failure of the weight readers and writers. Each description names the file (or the
/// directory) and the problem, so a user can act on it without a debugger.
public enum WeightsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened, mapped, read or listed.
    case io(file: String, reason: String)
    /// The file violates its format: header, offsets, dtype/shape/length consistency.
    case invalidFile(file: String, reason: String)
    /// A valid safetensors dtype that PhiKit does not compute with (only F32, F16, BF16 are).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// The store has no tensor with this name.
    case missingTensor(name: String, directory: String)
    /// The checkpoint's shape differs from the shape the model definition expects.
    case shapeMismatch(name: String, shape: [Int], expected: [Int], file: String)
    /// The directory contains no safetensors weights.
    case noWeights(directory: String)
    /// model.safetensors.index.json names a shard file that does not exist.
    case missingShard(shard: String, index: String)
    /// The index file is malformed or disagrees with the shards it names.
    case invalidIndex(file: String, reason: String)
    /// The same tensor name appears in more than one file.
    case duplicateTensor(name: String, files: [String])
    /// A NumPy .npy file is malformed or holds a type the reader does not handle.
    case invalidNpy(file: String, reason: String)
    /// A writer was given inconsistent input or could not write its output.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .io(let file, let reason):
            return "\(Self.display(file)): \(reason)"
        case .invalidFile(let file, let reason):
            return "\(Self.display(file)): \(reason)"
        case .unsupportedDType(let file, let tensor, let dtype):
            return "\(Self.display(file)): unsupported dtype \(dtype) for tensor '\(tensor)' (PhiKit reads F32, F16 and BF16)"
        case .missingTensor(let name, let directory):
            return "tensor '\(name)' is not in the weights in \(directory)"
        case .shapeMismatch(let name, let shape, let expected, let file):
            return "\(Self.display(file)): tensor '\(name)' has shape \(shape) but the model expects \(expected)"
        case .noWeights(let directory):
            return "no .safetensors weights in \(directory)"
        case .missingShard(let shard, let index):
            return "\(Self.display(index)): shard '\(shard)' does not exist next to the index"
        case .invalidIndex(let file, let reason):
            return "\(Self.display(file)): \(reason)"
        case .duplicateTensor(let name, let files):
            return "tensor '\(name)' appears in more than one file: \(files.map(Self.display).joined(separator: ", "))"
        case .invalidNpy(let file, let reason):
            return "\(Self.display(file)): \(reason)"
        case .writeFailed(let file, let reason):
            return "\(Self.display(file)): \(reason)"
        }
    }

    /// The file name alone keeps messages short; directories are named where they matter.
    static func display(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) < path.endIndex else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension MappedFile {
    /// Maps a weights file, turning mapping failures into `WeightsError.io` naming the file.
    static func weights(path: String) throws(WeightsError) -> MappedFile {
        do {
            return try MappedFile(path: path)
        } catch let error as MappedFileError {
            switch error {
            case .cannotOpen(_, let reason): throw WeightsError.io(file: path, reason: "cannot open: \(reason)")
            case .cannotMap(_, let reason): throw WeightsError.io(file: path, reason: "cannot memory-map: \(reason)")
            }
        } catch {
            throw WeightsError.io(file: path, reason: "cannot open: \(error)")
        }
    }
}
