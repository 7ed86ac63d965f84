/// The tests' seeded generator (SplitMix64): the same sequence on every platform and run, usable wherever Swift
/// takes a `RandomNumberGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0 ..< n (0 when n ≤ 0).
    public mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    /// Uniform in [-scale, scale).
    public mutating func float(scale: Float = 1) -> Float {
        Float(next() >> 40) / Float(1 << 24) * 2 * scale - scale
    }

    /// `count` values uniform in [-scale, scale).
    public mutating func floats(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in float(scale: scale) } }
}

/// The kernel tests' linear congruential generator: values in [-1, 1] in steps of 1/1000, so sums of products
/// stay exactly representable in the scalar references.
public struct LCG: Sendable {
    public var s: UInt64
    public init(s: UInt64) { self.s = s }
    public mutating func next() -> Float {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
    }
}
