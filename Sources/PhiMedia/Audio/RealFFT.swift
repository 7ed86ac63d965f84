import Foundation

/// Real-input FFT of a power-of-two size n, in Double: one complex radix-2 FFT of size n/2 on the even/odd
/// samples packed as complex numbers, then the split step. Twiddles and the bit-reversal permutation are
/// precomputed; `forward` allocates nothing.
struct RealFFT {
    let n: Int
    private let half: Int
    private let bitrev: [Int]
    private let twRe: [Double], twIm: [Double]  // e^{-2πik/half}, k < half/2
    private let spRe: [Double], spIm: [Double]  // e^{-2πik/n}, k ≤ half

    init(size n: Int) {
        precondition(n >= 4 && n & (n - 1) == 0, "RealFFT size must be a power of two ≥ 4")  // internal constant only
        self.n = n
        half = n / 2
        let bits = half.trailingZeroBitCount
        bitrev = (0..<half).map { i in
            var r = 0, x = i
            for _ in 0..<bits { r = r << 1 | (x & 1); x >>= 1 }
            return r
        }
        let h = half
        twRe = (0..<(h / 2)).map { cos(-2 * Double.pi * Double($0) / Double(h)) }
        twIm = (0..<(h / 2)).map { sin(-2 * Double.pi * Double($0) / Double(h)) }
        spRe = (0...h).map { cos(-2 * Double.pi * Double($0) / Double(n)) }
        spIm = (0...h).map { sin(-2 * Double.pi * Double($0) / Double(n)) }
    }

    /// x: n real inputs. re/im: n/2 + 1 outputs (bins 0…n/2). zr/zi: n/2 scratch each.
    func forward(_ x: UnsafeBufferPointer<Double>, re: UnsafeMutableBufferPointer<Double>, im: UnsafeMutableBufferPointer<Double>,
                 zr: UnsafeMutableBufferPointer<Double>, zi: UnsafeMutableBufferPointer<Double>) {
        let h = half
        bitrev.withUnsafeBufferPointer { br in
            for i in 0..<h {
                let j = br[i]
                zr[j] = x[2 * i]
                zi[j] = x[2 * i + 1]
            }
        }
        twRe.withUnsafeBufferPointer { wr in
            twIm.withUnsafeBufferPointer { wi in
                var len = 2
                while len <= h {
                    let hl = len / 2, step = h / len
                    var start = 0
                    while start < h {
                        for k in 0..<hl {
                            let cr = wr[k * step], ci = wi[k * step]
                            let a = start + k, b = a + hl
                            let tr = zr[b] * cr - zi[b] * ci
                            let ti = zr[b] * ci + zi[b] * cr
                            zr[b] = zr[a] - tr; zi[b] = zi[a] - ti
                            zr[a] += tr; zi[a] += ti
                        }
                        start += len
                    }
                    len <<= 1
                }
            }
        }
        // X[k] = (Z[k] + conj(Z[h-k]))/2 - i/2 · e^{-2πik/n} · (Z[k] - conj(Z[h-k]))
        spRe.withUnsafeBufferPointer { sr in
            spIm.withUnsafeBufferPointer { si in
                for k in 0...h {
                    let a = k == h ? 0 : k, b = k == 0 ? 0 : h - k
                    let ar = zr[a], ai = zi[a], br = zr[b], bi = -zi[b]
                    let er = 0.5 * (ar + br), ei = 0.5 * (ai + bi)
                    let dr = ar - br, di = ai - bi
                    // o = -i/2 · d = (di/2, -dr/2)
                    let orr = 0.5 * di, oi = -0.5 * dr
                    re[k] = er + orr * sr[k] - oi * si[k]
                    im[k] = ei + orr * si[k] + oi * sr[k]
                }
            }
        }
    }
}
