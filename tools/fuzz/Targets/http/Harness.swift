import Foundation
import CFuzzMain
import FuzzSupport
import PhiServer

/// HTTP request bodies of `phi4 serve`, fed straight to the routes' decoders (no network, no model). The first
/// byte picks the route (mod 3): 0 POST /v1/chat/completions, 1 POST /v1/completions, 2 the multipart form of
/// POST /v1/audio/transcriptions, whose input is the Content-Type header, "\n", then the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let body = FuzzSupport.data(data + 1, size - 1)
    switch data[0] % 3 {
    case 0:
        _ = try? RequestDecoding.chatCompletion(body)
    case 1:
        _ = try? RequestDecoding.completion(body)
    default:
        let newline = body.firstIndex(of: 0x0A) ?? body.endIndex
        let contentType = String(decoding: body[..<newline], as: UTF8.self)
        let form = newline < body.endIndex ? Data(body[(newline + 1)...]) : Data()
        _ = try? RequestDecoding.multipartForm(form, contentType: contentType)
    }
    return 0
}

@_cdecl("fuzz_http_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzHTTP($0, size) } ?? 0 }
}
