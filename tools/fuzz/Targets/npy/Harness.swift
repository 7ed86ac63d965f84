import CFuzzMain
import FuzzSupport
import PhiKit

/// NumPy .npy: magic, version, header dict, shape and dtype, data length.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? NpyReader.decode(UnsafeRawBufferPointer(start: data, count: size), file: "fuzz.npy")
    return 0
}

@_cdecl("fuzz_npy_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzNpy($0, size) } ?? 0 }
}
