/// A tiny seeded generator of values in [-1, 1] (steps of 0.001) shared by the kernel tests.
struct LCG {
    var s: UInt64
    mutating func next() -> Float {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
    }
}
