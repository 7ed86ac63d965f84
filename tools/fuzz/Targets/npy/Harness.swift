import FuzzSupport
import PhiKit

/// NumPy .npy: magic, version, header dict, shape and dtype, data length.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? NpyReader.decode(UnsafeRawBufferPointer(start: data, count: size), file: "fuzz.npy")
    return 0
}
