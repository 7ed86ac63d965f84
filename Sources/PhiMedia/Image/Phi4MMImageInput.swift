/// One image preprocessed for Phi-4-multimodal: the global 448x448 view followed by the HD crops, their patch
/// masks, and the number of `<|endoftext10|>` tokens the image expands to (reference §4). This is also the
/// vision tower's input type (PhiModels' `Phi4MMImageEmbedder.embed`), so the count here is the one source.
public struct Phi4MMImageInput: Sendable {
    /// Crop grid: `columns` crops across, `rows` down.
    public let columns: Int, rows: Int
    /// The global view first, then the crops in row-major order.
    public var cropCount: Int { 1 + columns * rows }
    /// [cropCount, 3, 448, 448], normalized to [-1, 1] (white padding is +1).
    public let pixelValues: [Float]
    /// [cropCount, 32, 32]; 1 = patch holds image (the global view is all ones), 0 = padding.
    public let patchMask: [UInt8]
    /// R and C: rows and columns of the 2x2-pooled sub-image grid that hold image patches.
    public let validRows: Int, validColumns: Int
    /// 256 + 16 + 1 + R*C + R.
    public let tokenCount: Int
    /// The padded HD image size, (448 * rows, 448 * columns), as the model's `image_sizes`.
    public let imageSize: (height: Int, width: Int)
}

/// The size arithmetic of the original processor for one image, without touching pixels.
public struct Phi4MMImagePlan: Sendable, Equatable {
    public let columns: Int, rows: Int
    /// The size the image is resized to before white padding to (448 * columns, 448 * rows).
    public let resizedWidth: Int, resizedHeight: Int
    public let padWidth: Int, padHeight: Int
    /// Patch columns / rows zeroed in the mask on the right / bottom.
    public let maskedColumns: Int, maskedRows: Int
    public let validRows: Int, validColumns: Int
    public let tokenCount: Int
    public var targetWidth: Int { 448 * columns }
    public var targetHeight: Int { 448 * rows }
}
