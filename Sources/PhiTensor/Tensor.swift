import PhiKernels
// DType lives in PhiKernels (beside the C type table it reads); every user of tensors sees it from here.
@_exported import enum PhiKernels.DType

/// A typed view of bytes that are owned elsewhere (a memory-mapped file or a heap buffer).
/// `owner` keeps that memory alive as long as the tensor lives.
public struct Tensor: @unchecked Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let data: UnsafeRawPointer
    public let owner: AnyObject

    public init(dtype: DType, shape: [Int], data: UnsafeRawPointer, owner: AnyObject) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
        self.owner = owner
    }

    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes of data (the shape was validated against the stored size when the tensor was made).
    public var byteCount: Int { dtype.byteCount(elements: elementCount) ?? 0 }
    /// Bytes of one row (the last dimension).
    public var rowBytes: Int { dtype.byteCount(elements: shape.last ?? 1) ?? 0 }

    /// Copies the elements into a new f32 array (converting from f16/bf16).
    public func toFloatArray() -> [Float] {
        let n = elementCount
        return [Float](unsafeUninitializedCapacity: n) { buf, count in
            if let dst = buf.baseAddress { Convert.toF32(dtype: dtype, src: data, dst: dst, count: n) }
            count = n
        }
    }
}

/// A heap buffer that owns f32 data; used for weights created at load time (e.g. converted norms).
public final class FloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { if let b = $0.baseAddress { pointer.update(from: b, count: values.count) } }
    }
    deinit { pointer.deallocate() }

    public func tensor(shape: [Int]) -> Tensor {
        Tensor(dtype: .f32, shape: shape, data: UnsafeRawPointer(pointer), owner: self)
    }
}

public enum Convert {
    @inline(__always) public static func bf16ToF32(_ v: UInt16) -> Float { Float(bitPattern: UInt32(v) << 16) }

    /// IEEE half → float, written out so it works where Swift's Float16 is unavailable (macOS on Intel).
    @inline(__always) public static func f16ToF32(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            let v = Float(mant) * (1.0 / 16_777_216.0) // mant × 2^-24
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | (UInt32(exp + 112) << 23) | (mant << 13))
    }

    /// Round-to-nearest-even f32 → bf16, as PyTorch does.
    @inline(__always) public static func f32ToBF16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
        let rounding = ((bits >> 16) & 1) &+ 0x7FFF
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Converts `count` values (a whole number of blocks for quantized types) to f32.
    public static func toF32(dtype: DType, src: UnsafeRawPointer, dst: UnsafeMutablePointer<Float>, count: Int) {
        switch dtype {
        case .f32:
            dst.update(from: src.assumingMemoryBound(to: Float.self), count: count)
        case .bf16:
            let s = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { dst[i] = bf16ToF32(s[i]) }
        case .f16:
            let s = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { dst[i] = f16ToF32(s[i]) }
        default: // block types: the C table's dequantizer
            Dequantize.toF32(dtype: dtype, src: src, dst: dst, count: count)
        }
    }
}

/// A heap buffer of raw bytes that owns tensor data made at load time (e.g. quantized weights).
public final class ByteBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int
    private let mapped: Bool
    /// Buffers of 2 MiB and more come straight from the OS as (huge-page backed) anonymous mappings.
    public init(count: Int, alignment: Int = 64) {
        self.count = count
        if count >= 2 << 20, let p = Platform.allocateLarge(byteCount: count) {
            pointer = p
            mapped = true
        } else {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: alignment)
            mapped = false
        }
    }
    deinit {
        if mapped { Platform.deallocateLarge(pointer, byteCount: count) } else { pointer.deallocate() }
    }

    public func tensor(dtype: DType, shape: [Int]) -> Tensor {
        Tensor(dtype: dtype, shape: shape, data: UnsafeRawPointer(pointer), owner: self)
    }
}

/// Owners of tensors that live in a memory-mapped file, which can give pages back once a weight has been
/// copied elsewhere (repacked or quantized).
public protocol MappedTensorOwner: AnyObject {
    func releasePages(_ pointer: UnsafeRawPointer, count: Int)
}

extension Tensor {
    /// Releases this tensor's pages from the resident set when it lives in a mapped file (no-op otherwise).
    public func releaseMappedPages() {
        (owner as? MappedTensorOwner)?.releasePages(data, count: byteCount)
    }

    /// Releases the whole pages inside bytes [offset, offset+count) of this tensor (see `releaseMappedPages`).
    public func releaseMappedPages(offset: Int, count: Int) {
        guard offset >= 0, count > 0, offset <= byteCount - count else { return }
        (owner as? MappedTensorOwner)?.releasePages(data + offset, count: count)
    }

    /// Whether this tensor lives in a memory-mapped file (its pages can be given back and read again).
    public var isMapped: Bool { owner is MappedTensorOwner }
}
