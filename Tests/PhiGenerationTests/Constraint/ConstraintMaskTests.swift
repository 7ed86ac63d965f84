import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer

/// The mask against brute force on the real Phi-4 vocabulary: at chosen prefixes of a valid output, the ids the
/// trie walk allows must be exactly the ids whose bytes the matcher accepts one by one.
final class ConstraintMaskTests: XCTestCase {
    /// (constraint, a valid output). Schemas in the style of JSONSchemaBench's GitHub / Glaive / Kubernetes
    /// subsets and MaskBench, written from their published descriptions, plus Phi-4-mini tool schemas.
    static let cases: [(String, Constraint, String)] = [
        ("github-style object", .jsonSchema(#"""
        {"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string","maxLength":40},
         "tags":{"type":"array","items":{"type":"string"},"maxItems":4},"private":{"type":"boolean"},
         "score":{"type":"number"}},"required":["id","name"],"additionalProperties":false}
        """#), #"{"id": 12, "name": "héllo \"wörld\" 😀", "tags": ["a", "b"], "score": -1.5e3}"#),
        ("nullable anyOf and enum", .jsonSchema(#"""
        {"type":"object","properties":{"status":{"enum":["open","closed",null,3]},
         "owner":{"anyOf":[{"type":"string"},{"type":"null"}]},"kind":{"const":"issue"}},
         "required":["status","owner","kind"]}
        """#), #"{"status": "closed", "owner": null,"kind":"issue"}"#),
        ("recursive $defs tree", .jsonSchema(#"""
        {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},
         "children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["value","children"]}},
         "$ref":"#/$defs/node"}
        """#), #"{"value": 1, "children": [{"value": 22, "children": []}, {"value": 3, "children": [{"value": 4, "children": []}]}]}"#),
        ("formats and pattern", .jsonSchema(#"""
        {"type":"object","properties":{"when":{"type":"string","format":"date-time"},
         "id":{"type":"string","format":"uuid"},"code":{"type":"string","pattern":"^[A-Z]{3}-\\d{4}$"}},
         "required":["when","id","code"]}
        """#), #"{"when": "2024-05-01T12:30:00Z", "id": "123e4567-e89b-12d3-a456-426614174000", "code": "ABC-1234"}"#),
        ("any JSON object", .jsonObject, #"{"a": [1, 2.5, {"b": null}], "c": "x\ny", "d": {"e": [true, false]}}"#),
        ("Phi-4-mini tool call", .toolCall(tools: #"""
        [{"name": "get_weather_updates", "description": "Fetches weather updates for a given city",
          "parameters": {"city": {"description": "The city name", "type": "str", "default": "London"},
                         "days": {"type": "int"}}},
         {"name": "search", "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
          "required": ["query"], "additionalProperties": false}}]
        """#, name: nil), #"<|tool_call|>[{"name": "get_weather_updates", "arguments": {"city": "Paris", "days": 3}}]<|/tool_call|>"#),
        ("regex", .regex(#"(\+\d{1,3} )?\(\d{3}\) \d{3}-\d{4}"#), "+44 (555) 123-4567"),
        ("grammar", .grammar(#"""
        root ::= "The answer is " answer "."
        answer ::= "yes" | "no" | [0-9]+ ( "," [0-9]{3} )*
        """#), "The answer is 12,345."),
    ]

    func testMaskEqualsBruteForceOnPhi4Vocabulary() throws {
        let tok = try ConstraintFixtures.phiTokenizer()
        XCTAssertEqual(tok.vocabularySize, 200_029)
        for (name, constraint, text) in Self.cases {
            let compiled = try constraint.compile(for: tok)
            var m = compiled.makeMatcher()
            let ids = tok.encode(text, parseSpecial: true)
            XCTAssertEqual(tok.decode(ids), text)
            let checkpoints = Set([ids.count / 3, (2 * ids.count) / 3])  // brute force is ~200k matcher runs each
            for (i, id) in ids.enumerated() {
                // Masks are compared at checkpoints (unoptimized test builds walk the trie slowly); every token of
                // the tokenizer's own encoding must be accepted in turn.
                if checkpoints.contains(i) {
                    var mask = TokenMask(count: compiled.vocabularySize)
                    m.allowedTokens(into: &mask)
                    XCTAssertFalse(mask.isEmpty, "\(name): empty mask before the end")
                    XCTAssertTrue(mask.contains(id), "\(name): token \(i) \(tok.tokenString(id) ?? "?") not allowed")
                    let brute = bruteForce(m, count: compiled.vocabularySize)
                    if mask != brute {
                        let extra = mask.allowedIDs.filter { !brute.contains($0) }.prefix(5).map { tok.tokenString($0) ?? "?" }
                        let missing = brute.allowedIDs.filter { !mask.contains($0) }.prefix(5).map { tok.tokenString($0) ?? "?" }
                        XCTFail("\(name) at token \(i): mask differs from brute force; extra \(extra), missing \(missing)")
                    }
                }
                XCTAssertTrue(m.accept(token: id), "\(name): token \(i) rejected")
                XCTAssertFalse(m.isComplete && i < ids.count - 1 && name.contains("tool"), "\(name): complete early")
            }
            XCTAssertTrue(m.isComplete, "\(name): not complete at the end")
        }
    }

    func bruteForce(_ m: ConstraintMatcher, count: Int) -> TokenMask {
        var out = TokenMask(count: count)
        for id in 0..<count {
            var c = m
            if c.accept(token: id) { out.insert(id) }
        }
        return out
    }

    func testSpecialTokensMaskedUnlessGrammarNamesThem() throws {
        let tok = try ConstraintFixtures.phiTokenizer()
        let compiled = try Constraint.jsonObject.compile(for: tok)
        var m = compiled.makeMatcher()
        let mask = m.mask(endTokens: [200020])
        for t in tok.addedTokens { XCTAssertFalse(mask.contains(t.id), "\(t.content) allowed at the start") }
        XCTAssertTrue(m.accept(bytes: Array("{}".utf8)))
        XCTAssertTrue(m.mask(endTokens: [200020]).contains(200020), "end token allowed once complete")
        XCTAssertEqual(m.mask(endTokens: [200020]).single, 200020, "nothing may follow a complete object")
    }
}
