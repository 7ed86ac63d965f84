import Foundation
import CFuzzMain
import FuzzSupport
import PhiKit

/// tokenizer.json (and, after a "\n\0\n" separator, tokenizer_config.json) through the public initializer, then
/// encoding and decoding a fixed text that touches digits, punctuation, whitespace runs, non-ASCII and special tokens.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzSupport.data(data, size)
    var tokenizerJSON = input, configJSON: Data?
    if let sep = input.range(of: Data([0x0A, 0x00, 0x0A])) {
        tokenizerJSON = input[..<sep.lowerBound]
        configJSON = input[sep.upperBound...]
    }
    guard let tok = try? Tokenizer(tokenizerJSON: Data(tokenizerJSON), tokenizerConfigJSON: configJSON.map { Data($0) }) else { return 0 }
    let ids = tok.encode("Hello,  world! 12345 ÄÖ 日本語 🙂\n\t<|endoftext|><|user|>x", parseSpecial: true)
    _ = tok.decode(ids)
    _ = tok.decode(ids, skipSpecial: true)
    return 0
}

@_cdecl("fuzz_tokenizer_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzTokenizer($0, size) } ?? 0 }
}
