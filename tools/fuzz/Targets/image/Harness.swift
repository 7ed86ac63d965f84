import CFuzzMain
import FuzzSupport
import PhiKit

/// JPEG and PNG through ImageDecoder and the C codecs (CPhiMedia over libjpeg-turbo and libpng).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? ImageDecoder.decode(FuzzSupport.data(data, size), limits: ImageLimits(maxPixels: 1 << 22, maxEncodedBytes: 1 << 24))
    return 0
}

@_cdecl("fuzz_image_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzImage($0, size) } ?? 0 }
}
