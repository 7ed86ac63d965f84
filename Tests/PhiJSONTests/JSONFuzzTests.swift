import Foundation
import XCTest
@testable import PhiJSON

/// Mutated documents through both value builders: never a crash, and the same verdict (value or error and offset),
/// since both run the one scanner.
final class JSONFuzzTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    private func verdict(_ bytes: [UInt8]) -> (ok: Bool, error: JSONParseError?) {
        do { _ = try JSONParser.parse(bytes); return (true, nil) } catch { return (false, error) }
    }

    func testMutationsAgreeAcrossBuilders() {
        let members = (0..<40).map { "\"k\\u00e9\($0)\": [\($0), -\($0).5e1, true, null, \"v\u{FEFF}\($0)\"]" }.joined(separator: ", ")
        let seeds = [
            Array("{\(members), \"nested\": {\"a\": [[{}], []], \"b\": \"\\ud83d\\ude00\"}}".utf8),
            Array(#"{"bos_token_id": 1, "rope_scaling": {"long_factor": [1, 1.5, 2e-3], "type": "longrope"}, "x": -0}"#.utf8),
        ]
        var rng = SplitMix(state: 7)
        var accepted = 0
        for seed in seeds {
            for _ in 0..<1500 {
                var doc = seed
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<doc.count, using: &rng)
                    switch rng.next() % 4 {
                    case 0: doc[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: doc.remove(at: i)
                    case 2: doc.insert(Array("{}[]\",:\\u0-1e.".utf8).randomElement(using: &rng) ?? 0x20, at: i)
                    default: doc = Array(doc.prefix(i))
                    }
                    if doc.isEmpty { doc = [0x20] }
                }
                let tree = verdict(doc)
                let foundation: (ok: Bool, error: JSONParseError?)
                do { _ = try FoundationJSON.parse(Data(doc)); foundation = (true, nil) } catch { foundation = (false, error) }
                if tree.ok { accepted += 1 }
                // FoundationJSON also refuses numbers beyond Double; otherwise the verdicts are identical.
                if foundation.error?.message.hasSuffix("is out of range") == true { continue }
                XCTAssertEqual(tree.ok, foundation.ok, "\(String(decoding: doc, as: UTF8.self))")
                XCTAssertEqual(tree.error, foundation.error)
            }
        }
        XCTAssertGreaterThan(accepted, 50, "the mutations should leave some documents valid")
    }
}
