import PhiKernels
import PhiNN
import PhiTensor

/// Replaces a weight at load time (e.g. quantizes it); gets the canonical name and the stored tensor.
public typealias WeightTransform = (_ name: String, _ tensor: Tensor) throws -> Tensor

/// How a model is built from its weights: the threads it runs on, an optional load-time conversion of its
/// matrices, and the repacker that mapped quantized matrices register with (nil: they are repacked at once).
/// Passed explicitly to every builder, so nothing is read from ambient state.
public struct ModelLoadOptions: @unchecked Sendable {
    public var parallel: Parallel
    public var transform: WeightTransform?
    public var repacker: WeightRepacker?

    public init(parallel: Parallel = Parallel(), transform: WeightTransform? = nil, repacker: WeightRepacker? = nil) {
        self.parallel = parallel
        self.transform = transform
        self.repacker = repacker
    }
}
