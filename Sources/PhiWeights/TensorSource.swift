import PhiTensor

/// Where a model binds its parameters from: a safetensors folder, a GGUF file, or a quantized copy.
/// Models ask by canonical (Hugging Face) name; a source for another layout translates through
/// `CheckpointNames`. Every name asked for is recorded so unused checkpoint tensors can be reported.
public protocol TensorSource: AnyObject, Sendable {
    func contains(_ name: String) -> Bool
    /// The tensor `name` with its shape checked ([rows, rowLength] order, as PyTorch stores it).
    func tensor(_ name: String, shape: [Int]) throws -> Tensor
    /// Checkpoint tensors never asked for (in the source's own naming).
    func unusedNames() -> [String]
}

extension WeightStore: TensorSource {}
