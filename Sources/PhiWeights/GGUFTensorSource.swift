import Foundation
import PhiTensor

/// A GGUF file seen through canonical (Hugging Face) tensor names, via `CheckpointNames`.
/// Records which tensors were bound so unexpected ones can be reported.
public final class GGUFTensorSource: TensorSource, @unchecked Sendable {
    public let file: GGUFFile
    /// When true, names are looked up as given (files PhiKit wrote with HF names, e.g. `phi4 quantize`).
    public let usesCanonicalNames: Bool
    private let lock = NSLock()
    private var used: Set<String> = []

    public init(file: GGUFFile, usesCanonicalNames: Bool = false) {
        self.file = file
        self.usesCanonicalNames = usesCanonicalNames
    }

    func fileName(_ name: String) -> String? {
        usesCanonicalNames ? name : CheckpointNames.gguf(fromHF: name)
    }

    public func contains(_ name: String) -> Bool {
        guard let n = fileName(name) else { return false }
        return file.contains(n)
    }

    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let n = fileName(name), file.contains(n) else {
            throw WeightsError.missingTensor(name: fileName(name) ?? name, directory: file.path)
        }
        let t = try file.tensor(named: n)
        guard t.shape == shape else {
            throw WeightsError.shapeMismatch(name: n, shape: t.shape, expected: shape, file: file.path)
        }
        lock.lock()
        used.insert(n)
        lock.unlock()
        return t
    }

    public func unusedNames() -> [String] {
        lock.lock(); defer { lock.unlock() }
        return file.names.filter { !used.contains($0) }
    }
}
