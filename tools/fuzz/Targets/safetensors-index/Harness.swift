import Foundation
import CFuzzMain
import FuzzSupport
import PhiKit

/// model.safetensors.index.json through WeightStore(directory:), with one small valid shard beside it
/// ("model-00001-of-00001.safetensors" holding a 2-element F32 tensor "w").
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsIndex(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let shard = FuzzSupport.directory.appendingPathComponent("model-00001-of-00001.safetensors")
    if !FileManager.default.fileExists(atPath: shard.path) {
        let header = Array(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        bytes += [UInt8](repeating: 0, count: 8)
        _ = FileManager.default.createFile(atPath: shard.path, contents: Data(bytes))
    }
    _ = FuzzSupport.file(data, size, name: "model.safetensors.index.json")
    if let store = try? WeightStore(directory: FuzzSupport.directory) {
        for name in store.names.prefix(8) { _ = try? store.tensor(name) }
    }
    return 0
}

@_cdecl("fuzz_safetensors_index_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzSafetensorsIndex($0, size) } ?? 0 }
}
