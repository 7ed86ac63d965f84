import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer
import PhiTestSupport

/// Shared fixtures for the constraint tests: the real Phi-4 tokenizer (200,064 ids, rebuilt from o200k_base by
/// tools/tokenizer) and a seeded generator.
enum ConstraintFixtures {
    static let phi: Result<Tokenizer, Error> = Result {
        try Tokenizer(directory: TestFixtures.tokenizers)
    }
    static func phiTokenizer() throws -> Tokenizer { try phi.get() }

    /// The tiny random Phi-4-mini (384-id vocabulary, 64-token context) and its tokenizer.
    static func tinyModel() throws -> (LoadedModel, Void) {
        (try ModelLoader.load(path: TestFixtures.model("phi4mini-tiny").path, threads: 2), ())
    }
}

struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}
