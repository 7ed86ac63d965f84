import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer

final class ConstraintSmokeTests: XCTestCase {
    func testSmoke() throws {
        let tok = try ConstraintFixtures.phiTokenizer()
        let t0 = Date()
        let c = try Constraint.jsonSchema(#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name","age"]}"#).compile(for: tok)
        print("compile", Date().timeIntervalSince(t0), c.stateCount)
        var m = c.makeMatcher()
        let text = #"{"name": "Bob \"x\"", "age": 42}"#
        let ids = tok.encode(text)
        for id in ids {
            let t1 = Date()
            var mask = TokenMask(count: c.vocabularySize)
            m.allowedTokens(into: &mask)
            print(tok.tokenString(id) ?? "?", mask.allowedCount, mask.contains(id), Date().timeIntervalSince(t1))
            XCTAssertTrue(m.accept(token: id))
        }
        XCTAssertTrue(m.isComplete)
    }
}
