import CFuzzMain
import FuzzSupport
import PhiKit

/// GGUF: header, metadata, tensor infos, then every tensor's bytes and float conversion, and the GGUF vocabulary.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let url = FuzzSupport.file(data, size, name: "model.gguf")
    guard let file = try? GGUFFile(url: url) else { return 0 }
    for name in file.names.prefix(64) {
        _ = try? file.rawBytes(named: name)
        if let t = try? file.tensor(named: name), t.elementCount <= 1 << 20 { _ = t.toFloatArray() }
    }
    if let tok = try? GGUFTokenizer.load(from: file) {
        _ = tok.decode(tok.encode("Hello, world! 123 <|endoftext|>", parseSpecial: true))
    }
    return 0
}

@_cdecl("fuzz_gguf_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzGGUF($0, size) } ?? 0 }
}
