import Foundation

/// Phi-4-multimodal log-mel features, identical in definition to the ORIGINAL extractor (hub
/// `processing_phi4mm.py`, `Phi4MMAudioFeatureExtractor` + `speechlib_mel`; Python copy in
/// tools/media/phi4mm_audio_features.py): frames of 400 samples every 160 (no padding), pre-emphasis 0.97 inside
/// each frame, ×32768, symmetric Hamming(400), rfft 512, power, 80 Kaldi-mel triangles up to 7690 Hz (the
/// speechlib matrix, bins 1…245), ln(max(·, 1)). The precision of each step follows the original (frames and
/// pre-emphasis in Float, window and FFT in Double, magnitude and mel products in Float).
public enum Phi4MMAudioFeatures {
    public static let sampleRate = 16000
    public static let melBins = 80
    public static let windowLength = 400
    public static let hopLength = 160
    static let fftSize = 512
    static let preemphasis: Float = 0.97

    /// Feature frames for `samples` samples at 16 kHz: ⌊(N − 400)/160⌋ + 1 (0 when N < 400).
    public static func frameCount(samples: Int) -> Int {
        samples < windowLength ? 0 : (samples - windowLength) / hopLength + 1
    }

    /// Audio tokens for `frames` feature frames: ⌈frames / 8⌉ (compression rate 8, qformer rate 1).
    public static func tokenCount(frames: Int) -> Int { frames <= 0 ? 0 : (frames + 7) / 8 }

    /// Features of a mono 16 kHz clip: `values` is [frames, 80] row-major.
    public static func extract(_ samples16k: [Float]) throws -> (values: [Float], frames: Int) {
        let n = samples16k.count
        guard n >= windowLength else { throw AudioError.tooShort(samples: n, minimum: windowLength) }
        for v in samples16k where !v.isFinite { throw AudioError.nonFiniteSamples }
        let frames = frameCount(samples: n)
        var out = [Float](repeating: 0, count: frames * melBins)
        let fft = tables.fft
        let bins = fftSize / 2 + 1
        var x = [Double](repeating: 0, count: fftSize)
        var re = [Double](repeating: 0, count: bins), im = [Double](repeating: 0, count: bins)
        var zr = [Double](repeating: 0, count: fftSize / 2), zi = [Double](repeating: 0, count: fftSize / 2)
        var power = [Float](repeating: 0, count: bins)
        let window = tables.window
        let mel = tables.mel
        samples16k.withUnsafeBufferPointer { s in
            for t in 0..<frames {
                let f = t * hopLength
                // pre-emphasis inside the frame (the first sample uses itself as predecessor), in Float like numpy
                x.withUnsafeMutableBufferPointer { xb in
                    var prev = s[f]
                    for i in 0..<windowLength {
                        let cur = s[f + i]
                        let y = (cur - preemphasis * prev) * 32768
                        xb[i] = window[i] * Double(y)
                        prev = cur
                    }
                }
                x.withUnsafeBufferPointer { xb in
                    re.withUnsafeMutableBufferPointer { r in
                        im.withUnsafeMutableBufferPointer { m in
                            zr.withUnsafeMutableBufferPointer { a in
                                zi.withUnsafeMutableBufferPointer { b in
                                    fft.forward(xb, re: r, im: m, zr: a, zi: b)
                                }
                            }
                        }
                    }
                }
                // complex64 cast, |S| in Float, squared in Float
                for k in 0..<bins {
                    let a = Double(Float(re[k])), b = Double(Float(im[k]))
                    let mag = Float((a * a + b * b).squareRoot())
                    power[k] = mag * mag
                }
                let row = t * melBins
                for m in 0..<melBins {
                    let filt = mel[m]
                    var acc: Float = 0
                    for (j, w) in filt.weights.enumerated() { acc += power[filt.first + j] * w }
                    out[row + m] = log(max(acc, 1))
                }
            }
        }
        return (out, frames)
    }

    /// Resamples `clip` to 16 kHz when needed, then extracts features.
    public static func extract(clip: AudioClip) throws -> (values: [Float], frames: Int) {
        let s = clip.sampleRate == sampleRate ? clip.samples : try AudioResampler.resample(clip.samples, from: clip.sampleRate, to: sampleRate)
        return try extract(s)
    }

    struct MelFilter { let first: Int; let weights: [Float] }

    struct Tables {
        let fft: RealFFT
        let window: [Double]
        let mel: [MelFilter]
    }

    static let tables: Tables = {
        // numpy.hamming(400): 0.54 + 0.46·cos(π·n/(M−1)) for n = 1−M, 3−M, …, M−1
        let m = windowLength
        let window = (0..<m).map { i -> Double in 0.54 + 0.46 * cos(Double.pi * Double(1 - m + 2 * i) / Double(m - 1)) }
        return Tables(fft: RealFFT(size: fftSize), window: window, mel: speechlibMel().map { row in
            let nz = row.indices.filter { row[$0] != 0 }
            guard let a = nz.first, let b = nz.last else { return MelFilter(first: 0, weights: []) }
            return MelFilter(first: a, weights: Array(row[a...b]))
        })
    }()

    /// The speechlib mel matrix [80][257] (original Phi-4-MM: sample rate 16000, n_fft 512, fmin 0, fmax 7690).
    static func speechlibMel() -> [[Float]] {
        let sr = 16000.0, nfft = 512, nMels = 80, fmax = 7690.0
        func mel(_ f: Double) -> Double { 1127.0 * log(1.0 + f / 700.0) }
        func bin2mel(_ k: Int) -> Double { 1127.0 * log(1.0 + Double(k) * sr / (Double(nfft) * 700.0)) }
        func f2bin(_ f: Double) -> Int { Int(f * Double(nfft) / sr + 0.5) }
        let klo = f2bin(0) + 1
        let khi = max(f2bin(fmax), klo)
        let mlo = mel(0), mhi = mel(fmax)
        // numpy.linspace(mlo, mhi, nMels + 2)
        let num = nMels + 2
        let step = (mhi - mlo) / Double(num - 1)
        var centers = (0..<num).map { Double($0) * step + mlo }
        centers[num - 1] = mhi
        let ms = (mhi - mlo) / Double(nMels + 1)
        var matrix = [[Float]](repeating: [Float](repeating: 0, count: nfft / 2 + 1), count: nMels)
        for m in 0..<nMels {
            let left = centers[m], center = centers[m + 1], right = centers[m + 2]
            for k in klo..<khi {
                let mb = bin2mel(k)
                if left < mb && mb < right { matrix[m][k] = Float(1.0 - abs(center - mb) / ms) }
            }
        }
        return matrix
    }
}
