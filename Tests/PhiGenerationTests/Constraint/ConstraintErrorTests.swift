import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer

/// Bad constraints are typed errors that name the feature and its place, before any generation.
final class ConstraintErrorTests: XCTestCase {
    func error(_ c: Constraint) throws -> ConstraintError? {
        let tok = try ConstraintPropertyTests.tinyTokenizer.get()
        do { _ = try c.compile(for: tok); return nil } catch let e as ConstraintError { return e }
    }

    func testUnsupportedFeaturesNameKeywordAndPath() throws {
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"integer","multipleOf":5}"#)), .unsupported(feature: "multipleOf", path: "#"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"number","minimum":0.5}"#)),
                       .unsupported(feature: "minimum 0.5 on a number (number bounds must be whole numbers; integers take any)", path: "#/minimum"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"object","properties":{"a":{"type":"string","format":"ipv6"}}}"#)),
                       .unsupported(feature: "format ipv6", path: "#/properties/a/format"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"array","items":{"type":"string","not":{"const":"x"}}}"#)),
                       .unsupported(feature: "not", path: "#/items"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":true}"#)),
                       .unsupported(feature: "additionalProperties: true beside properties", path: "#/additionalProperties"))
        XCTAssertEqual(try error(.regex("(a)\\1")), .unsupported(feature: "backreference \\1", path: "regex at character 4"))
        XCTAssertEqual(try error(.grammar("root ::= root \"a\" | \"b\"")), .unsupported(feature: "left recursion", path: "rule root"))
    }

    /// One quantifier per atom, as in ECMA-262 (JSON Schema's pattern dialect) and Python: stacked ones were read as
    /// nesting, each `+` doubling the copies up to the state limit (the constraint fuzz target's 10 s input).
    func testStackedQuantifiersAreErrors() throws {
        func stacked(at i: Int) -> ConstraintError {
            .invalid(path: "regex at character \(i)", message: "nothing to repeat (a quantifier follows a quantifier)")
        }
        XCTAssertEqual(try error(.regex("a**")), stacked(at: 2))
        XCTAssertEqual(try error(.regex("a{2}{3}")), stacked(at: 4))
        XCTAssertEqual(try error(.regex("a+??")), stacked(at: 3))
        XCTAssertEqual(try error(.regex("a++")), .unsupported(feature: "possessive quantifier", path: "regex at character 2"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"string","pattern":"^x*+$"}"#)),
                       .unsupported(feature: "possessive quantifier", path: "#/pattern at character 2"))
        let plusses = String(repeating: "+", count: 100)
        XCTAssertEqual(try error(.regex("a+" + plusses)), .unsupported(feature: "possessive quantifier", path: "regex at character 2"))
        XCTAssertEqual(try error(.regex("a*" + String(repeating: "*", count: 100))), stacked(at: 2))
        // Lazy quantifiers, explicit nesting and a literal brace stay valid.
        for ok in ["a+?b", "a*?", "a{2,3}?", "(a+)+", "(?:a{2}){3}", "a{x", "a{"] { XCTAssertNil(try error(.regex(ok)), ok) }
    }

    func testUnsatisfiableSchemasAreErrors() throws {
        XCTAssertEqual(try error(.jsonSchema(#"{"enum":[]}"#)), .unsatisfiable(path: "#/enum", reason: "the list is empty"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"array","minItems":3,"maxItems":1}"#)),
                       .unsatisfiable(path: "#", reason: "maxItems 1 < minItems 3"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"object","properties":{},"required":["x"],"additionalProperties":false}"#)),
                       .unsatisfiable(path: "#/required", reason: "required property 'x' is not in properties"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"integer","minimum":4.5,"maximum":4.9}"#)),
                       .unsatisfiable(path: "#", reason: "no integer lies within the bounds"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"number","exclusiveMinimum":1,"maximum":1}"#)),
                       .unsatisfiable(path: "#", reason: "no number lies within the bounds"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"integer","minimum":1e300}"#)),
                       .unsatisfiable(path: "#", reason: "no integer lies within the bounds"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"number","exclusiveMinimum":true}"#)),
                       .invalid(path: "#/exclusiveMinimum", message: "true needs a minimum"))
        // Infinite required recursion: no finite output exists.
        XCTAssertEqual(try error(.jsonSchema(##"{"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]}"##)),
                       .unsatisfiable(path: "#", reason: "no output matches"))
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"string","pattern":"^a$","format":"date"}"#)),
                       .unsupported(feature: "pattern beside format", path: "#/pattern"))
        XCTAssertEqual(try error(.toolCall(tools: #"[{"name":"a","parameters":{}}]"#, name: "b")),
                       .unsatisfiable(path: "tools", reason: "no tool is named 'b'"))
    }

    /// A long literal is a chain of states, which Moore's refinement would take one round per state to prove
    /// minimal (the constraint fuzz target found 300-byte inputs taking seconds); past the refinement budget the
    /// determinized automaton is kept, and it must still match exactly the literal.
    func testLongLiteralKeepsItsExactLanguage() throws {
        let tok = try ConstraintPropertyTests.tinyTokenizer.get()
        let text = String((0..<6000).map { i in Character(UnicodeScalar(UInt8(97 + (i * 7) % 26))) })
        let c = try Constraint.jsonSchema(#"{"const":"\#(text)"}"#).compile(for: tok, useCache: false)
        XCTAssertGreaterThan(c.stateCount, 6000, "the chain was minimized after all: the budget path went untested")
        func accepts(_ s: String) -> Bool { var m = c.makeMatcher(); return m.accept(bytes: Array(s.utf8)) && m.isComplete }
        XCTAssertTrue(accepts("\"\(text)\""))
        XCTAssertFalse(accepts("\"\(text.dropLast())\""))
        XCTAssertFalse(accepts("\"\(text.dropLast())z\""))
        XCTAssertFalse(accepts("\"\(text)"))
        let both = try Constraint.regex("(\(text)|\(text.prefix(5000))x)").compile(for: tok, useCache: false)
        var m = both.makeMatcher()
        XCTAssertTrue(m.accept(bytes: Array(text.prefix(5000).utf8)) && m.accept(bytes: Array("x".utf8)) && m.isComplete)
    }

    func testOversizedConstraintIsRejected() throws {
        XCTAssertEqual(try error(.jsonSchema(#"{"type":"string","maxLength":20000}"#)), .tooLarge("repetition count above 10000"))
        // Exponential inlining (each definition uses the next one four times) hits the state limit, not memory.
        var defs: [String] = []
        for i in 0..<12 {
            let next = ##"{"$ref":"#/$defs/d"## + "\(i + 1)\"}"
            defs.append("\"d\(i)\":{\"type\":\"array\",\"items\":{\"anyOf\":[\(next),\(next),\(next),\(next)]}}")
        }
        defs.append(#""d12":{"type":"string"}"#)
        let schema = "{\"$defs\":{" + defs.joined(separator: ",") + ##"},"$ref":"#/$defs/d0"}"##
        guard case .tooLarge? = try error(.jsonSchema(schema)) else { return XCTFail("exponential schema accepted") }
    }

    func testMalformedInputIsInvalid() throws {
        guard case .invalid? = try error(.jsonSchema("{\"type\":")) else { return XCTFail("truncated JSON accepted") }
        guard case .invalid? = try error(.regex("(ab")) else { return XCTFail("unbalanced regex accepted") }
        guard case .invalid? = try error(.grammar("root ::= other")) else { return XCTFail("undefined rule accepted") }
        guard case .invalid? = try error(.jsonSchema(##"{"$ref":"#/$defs/missing"}"##)) else { return XCTFail("bad $ref accepted") }
        XCTAssertEqual(try error(.grammar("root ::= <|nope|>")), .missingToken("<|nope|>"))
        XCTAssertNil(try error(.jsonSchema(#"{"type":"object","properties":{"a":{"type":"string","title":"A","description":"d"}},"$schema":"x"}"#)))
    }

    func testGeneratorRejectsBadConstraintBeforeRunning() throws {
        let (loaded, _) = try ConstraintFixtures.tinyModel()
        let options = GenerationOptions(maxTokens: 5, constraint: .jsonSchema(#"{"type":"number","multipleOf":2}"#))
        var steps = 0
        XCTAssertThrowsError(try loaded.makeGenerator().generate(prompt: [1, 2], options: options) { _ in steps += 1; return true }) {
            XCTAssertEqual($0 as? ConstraintError, .unsupported(feature: "multipleOf", path: "#"))
        }
        XCTAssertEqual(steps, 0)
    }
}
