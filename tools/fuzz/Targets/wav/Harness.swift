import CFuzzMain
import FuzzSupport
import PhiKit

/// Audio decoding (WAV seeds; the decoder sniffs the container, so either format can be reached) with limits
/// small enough that every execution stays fast, then the 16 kHz resampling the model's features start with.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let limits = AudioLimits(maxSeconds: 60, maxBytes: 1 << 24, maxSamples: 1 << 21)
    guard let clip = try? AudioDecoder.decode(FuzzSupport.data(data, size), limits: limits) else { return 0 }
    if clip.samples.count <= 1 << 16 { _ = try? AudioResampler.resample(clip.samples, from: clip.sampleRate, to: 16_000) }
    return 0
}

@_cdecl("fuzz_wav_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzWAV($0, size) } ?? 0 }
}
