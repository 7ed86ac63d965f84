import CFuzzMain
import FuzzSupport
import PhiKit

/// config.json through the public loaders of every architecture (phi3, Phi-4-multimodal, llama), whose size
/// checks (ConfigLimits, products with overflow reported) run at parse time.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let json = FuzzSupport.data(data, size)
    _ = try? Phi3Config.parse(json)
    _ = try? Phi4MMConfig.parse(json)
    _ = try? LlamaConfig.parse(json)
    return 0
}

@_cdecl("fuzz_config_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzConfig($0, size) } ?? 0 }
}
