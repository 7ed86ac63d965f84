import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer
import PhiTestSupport

/// Random schemas, random walks through their masks: every finished output parses and validates (with the test's
/// own validator), the mask never empties before the output is complete, and the canonical tokenization of every
/// output is accepted token by token.
final class ConstraintPropertyTests: XCTestCase {
    static let tinyTokenizer: Result<Tokenizer, Error> = Result {
        try Tokenizer(directory: TestFixtures.model("phi4mini-tiny"))
    }

    /// A random schema from the supported subset (strings bounded so random walks finish).
    struct SchemaMaker {
        var rng: TestRNG
        mutating func make(depth: Int = 0) -> String {
            switch rng.int(depth >= 2 ? 6 : 10) {
            case 0:
                return [#"{"type":"string","maxLength":\#(rng.int(5))}"#, #"{"type":"string","minLength":1,"maxLength":3}"#,
                        #"{"type":"string","enum":["a","b\"c","é"]}"#, #"{"type":"string","format":"date"}"#,
                        #"{"type":"string","pattern":"^[a-c]{1,3}-\\d$"}"#, #"{"type":"string","format":"uuid"}"#][rng.int(6)]
            case 1: return [#"{"type":"integer"}"#, #"{"type":"integer","minimum":-7,"maximum":120}"#,
                            #"{"type":"integer","exclusiveMinimum":0}"#, #"{"type":"integer","minimum":95,"exclusiveMaximum":1001}"#][rng.int(4)]
            case 2: return [#"{"type":"number"}"#, #"{"type":"number","minimum":0,"maximum":1}"#,
                            #"{"type":"number","exclusiveMinimum":-3,"exclusiveMaximum":-1}"#, #"{"type":"number","exclusiveMinimum":0}"#,
                            #"{"type":"number","minimum":-2,"maximum":5,"exclusiveMaximum":true}"#][rng.int(5)]
            case 3: return #"{"type":"boolean"}"#
            case 4: return [#"{"enum":["x",1,null,true,[1,2]]}"#, #"{"const":{"k":"v"}}"#, #"{"type":"null"}"#][rng.int(3)]
            case 5: return #"{"type":["integer","null"]}"#
            case 6: return #"{"anyOf":[\#(make(depth: depth + 1)),\#(make(depth: depth + 1))]}"#
            case 7, 8:
                let n = rng.int(4)
                var props: [String] = [], req: [String] = []
                for i in 0..<n {
                    let name = ["id", "name", "a b", "ü", "x\"y"][(i + rng.int(5)) % 5] + "\(i)"
                    let key = JSONValue.quote(name)
                    props.append("\(key):\(make(depth: depth + 1))")
                    if rng.chance(0.6) { req.append(key) }
                }
                return #"{"type":"object","properties":{\#(props.joined(separator: ","))},"required":[\#(req.joined(separator: ","))],"additionalProperties":false}"#
            default:
                let lo = rng.int(2), hi = lo + rng.int(3)
                return #"{"type":"array","items":\#(make(depth: depth + 1)),"minItems":\#(lo),"maxItems":\#(hi)}"#
            }
        }
    }

    /// Walks random allowed tokens to a complete output (nil if `maxSteps` ran out first).
    func walk(_ c: CompiledConstraint, tokenizer tok: Tokenizer, rng: inout TestRNG, maxSteps: Int,
              file: StaticString = #filePath, line: UInt = #line) -> String? {
        var m = c.makeMatcher()
        var ids: [Int] = []
        for _ in 0..<maxSteps {
            let complete = m.isComplete
            if complete && rng.chance(0.5) { return tok.decode(ids) }
            var mask = TokenMask(count: c.vocabularySize)
            m.allowedTokens(into: &mask)
            if mask.isEmpty {
                XCTAssertTrue(complete, "mask empty before the output is complete: \(tok.decode(ids))", file: file, line: line)
                return tok.decode(ids)
            }
            let allowed = mask.allowedIDs
            let id = allowed[rng.int(allowed.count)]
            XCTAssertTrue(m.accept(token: id), "masked-in token rejected", file: file, line: line)
            ids.append(id)
        }
        return m.isComplete ? tok.decode(ids) : nil
    }

    func check(schema: String, tokenizer tok: Tokenizer, walks: Int, maxSteps: Int, rng: inout TestRNG) throws -> Int {
        let compiled = try Constraint.jsonSchema(schema).compile(for: tok)
        guard let schemaTree = TJSON.parse(schema) else { XCTFail("test schema does not parse: \(schema)"); return 0 }
        let validator = SchemaValidator(root: schemaTree)
        var finished = 0
        for _ in 0..<walks {
            guard let out = walk(compiled, tokenizer: tok, rng: &rng, maxSteps: maxSteps) else { continue }
            finished += 1
            guard let value = TJSON.parse(out) else { XCTFail("output does not parse: \(out.debugDescription) for \(schema)"); continue }
            if let why = validator.check(value, schemaTree) { XCTFail("\(why): \(out) for \(schema)") }
            // The tokenizer's own encoding of the output is accepted token by token.
            var m = compiled.makeMatcher()
            for id in tok.encode(out) {
                var mask = TokenMask(count: compiled.vocabularySize)
                m.allowedTokens(into: &mask)
                XCTAssertTrue(mask.contains(id) && m.accept(token: id), "canonical token rejected in \(out)")
            }
            XCTAssertTrue(m.isComplete)
        }
        return finished
    }

    func testRandomSchemasRandomWalksValidate() throws {
        let tok = try Self.tinyTokenizer.get()
        var rng = TestRNG(11)
        var maker = SchemaMaker(rng: TestRNG(5))
        var finished = 0, total = 0
        for _ in 0..<120 {
            let schema = maker.make()
            finished += try check(schema: schema, tokenizer: tok, walks: 4, maxSteps: 300, rng: &rng)
            total += 4
        }
        XCTAssertGreaterThan(finished, total * 9 / 10, "most random walks should finish")
    }

    func testRandomWalksOnPhi4Vocabulary() throws {
        let tok = try ConstraintFixtures.phiTokenizer()
        var rng = TestRNG(3)
        var maker = SchemaMaker(rng: TestRNG(8))
        var finished = 0
        for _ in 0..<6 { finished += try check(schema: maker.make(), tokenizer: tok, walks: 2, maxSteps: 120, rng: &rng) }
        XCTAssertGreaterThan(finished, 6)
    }

    func testRecursiveAndAnyObjectWalks() throws {
        let tok = try Self.tinyTokenizer.get()
        var rng = TestRNG(21)
        let tree = ##"{"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":2}},"required":["v","kids"]}},"$ref":"#/$defs/n"}"##
        XCTAssertGreaterThan(try check(schema: tree, tokenizer: tok, walks: 30, maxSteps: 400, rng: &rng), 10)
        let anyObject = try Constraint.jsonObject.compile(for: tok)
        var done = 0
        for _ in 0..<30 {
            guard let out = walk(anyObject, tokenizer: tok, rng: &rng, maxSteps: 400) else { continue }
            done += 1
            guard case .obj? = TJSON.parse(out) else { XCTFail("not a JSON object: \(out.debugDescription)"); continue }
        }
        XCTAssertGreaterThan(done, 5)
    }
}
