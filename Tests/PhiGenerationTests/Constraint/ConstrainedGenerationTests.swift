import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer

/// End to end on the tiny random Phi-4-mini: constrained sampling gives valid output for every seed.
final class ConstrainedGenerationTests: XCTestCase {
    func testTinyModelGivesValidJSONFor200Seeds() throws {
        let (loaded, _) = try ConstraintFixtures.tinyModel()
        let schema = #"{"type":"object","properties":{"ok":{"type":"boolean"},"n":{"enum":[1,2,"three"]},"tag":{"type":"string","maxLength":3}},"required":["ok","n"],"additionalProperties":false}"#
        let tree = try XCTUnwrap(TJSON.parse(schema))
        let validator = SchemaValidator(root: tree)
        let g = loaded.makeGenerator()
        let prompt = loaded.tokenizer.encode("Hi")
        var forcedSteps = 0
        for seed in 0..<200 {
            let options = GenerationOptions(maxTokens: 60, sampling: SamplingParameters(temperature: 1, seed: UInt64(seed)),
                                            constraint: .jsonSchema(schema))
            let r = try g.generate(prompt: prompt, options: options)
            XCTAssertEqual(r.finishReason, .stop, "seed \(seed): \(r.text.debugDescription)")
            guard let value = TJSON.parse(r.text) else { XCTFail("seed \(seed): does not parse: \(r.text.debugDescription)"); continue }
            if let why = validator.check(value, tree) { XCTFail("seed \(seed): \(why): \(r.text)") }
            forcedSteps += r.generatedTokens.count
        }
        XCTAssertGreaterThan(forcedSteps, 200)
    }

    func testGreedyUnconstrainedOutputUnchangedAndConstraintChangesIt() throws {
        let (loaded, _) = try ConstraintFixtures.tinyModel()
        let g = loaded.makeGenerator()
        let prompt = loaded.tokenizer.encode("Hi")
        let plain = try g.generate(prompt: prompt, options: GenerationOptions(maxTokens: 10, stopTokenIDs: []))
        let again = try g.generate(prompt: prompt, options: GenerationOptions(maxTokens: 10, stopTokenIDs: [], constraint: nil))
        XCTAssertEqual(plain.generatedTokens, again.generatedTokens)
        let digits = try g.generate(prompt: prompt, options: GenerationOptions(maxTokens: 10, constraint: .regex("[0-9]{3}")))
        XCTAssertEqual(digits.text.count, 3)
        XCTAssertTrue(digits.text.allSatisfy(\.isNumber), digits.text)
        XCTAssertEqual(digits.finishReason, .stop)
    }

    func testToolCallIsWellFormedAndEndsTurn() throws {
        let (loaded, _) = try ConstraintFixtures.tinyModel()
        // Short names: the tiny model's context is 64 tokens and its vocabulary mostly single characters.
        let tools = #"[{"name":"w","parameters":{"c":{"type":"str","enum":["P","O"]},"d":{"type":"bool","default":true}}},{"name":"noop","parameters":{}}]"#
        let g = loaded.makeGenerator()
        let end = try XCTUnwrap(loaded.tokenizer.specialTokenID("<|end|>"))
        var finished = 0
        for seed in 0..<20 {
            let options = GenerationOptions(maxTokens: 60, sampling: SamplingParameters(temperature: 1, seed: UInt64(seed)),
                                            constraint: .toolCall(tools: tools, name: seed % 2 == 0 ? "w" : nil))
            let r = try g.generate(prompt: loaded.tokenizer.encode("Weather?"), options: options)
            guard r.finishReason == .stop else { continue }  // the tiny model's 64-token context can run out
            finished += 1
            XCTAssertEqual(r.generatedTokens.last, end)
            XCTAssertTrue(r.text.hasPrefix("<|tool_call|>") && r.text.hasSuffix("<|/tool_call|>"), r.text)
            let body = String(r.text.dropFirst("<|tool_call|>".count).dropLast("<|/tool_call|>".count))
            guard case .arr(let calls)? = TJSON.parse(body) else { XCTFail("not a list: \(body)"); continue }
            for call in calls {
                guard case .str(let name)? = call["name"], case .obj(let args)? = call["arguments"] else { XCTFail("bad call \(body)"); continue }
                if seed % 2 == 0 { XCTAssertEqual(name, "w"); XCTAssertEqual(calls.count, 1) }
                if name == "w" {
                    XCTAssertTrue(args.contains { $0.0 == "c" }, body)
                } else {
                    XCTAssertEqual(name, "noop")
                    XCTAssertTrue(args.isEmpty)
                }
            }
        }
        XCTAssertGreaterThanOrEqual(finished, 10)
    }
}
