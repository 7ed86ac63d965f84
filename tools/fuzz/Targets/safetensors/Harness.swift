import CFuzzMain
import FuzzSupport
import PhiKit

/// A safetensors file: the 8-byte length, the JSON header, entry validation, then every tensor.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let url = FuzzSupport.file(data, size, name: "model.safetensors")
    guard let file = try? SafetensorsFile(url: url) else { return 0 }
    for name in file.names.prefix(64) {
        _ = try? file.rawBytes(named: name)
        if let t = try? file.tensor(named: name), t.elementCount <= 1 << 20 { _ = t.toFloatArray() }
    }
    return 0
}

@_cdecl("fuzz_safetensors_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzSafetensors($0, size) } ?? 0 }
}
