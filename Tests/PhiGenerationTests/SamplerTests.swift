import PhiGeneration
import XCTest

final class SamplerTests: XCTestCase {
    let logits: [Float] = [0.1, 2.0, 1.9, -1.0, 0.5, 1.0]

    func testGreedyPicksArgmax() {
        var s = Sampler(SamplingParameters(temperature: 0))
        XCTAssertEqual(s.sample(logits: logits, context: [], generated: []), 1)
    }

    func testSameSeedSameDraws() {
        let p = SamplingParameters(temperature: 1.5, seed: 99)
        var a = Sampler(p), b = Sampler(p)
        let da = (0..<50).map { _ in a.sample(logits: logits, context: [], generated: []) }
        let db = (0..<50).map { _ in b.sample(logits: logits, context: [], generated: []) }
        XCTAssertEqual(da, db)
        XCTAssertGreaterThan(Set(da).count, 2, "temperature 1.5 should explore several tokens")
        var c = Sampler(SamplingParameters(temperature: 1.5, seed: 100))
        let dc = (0..<50).map { _ in c.sample(logits: logits, context: [], generated: []) }
        XCTAssertNotEqual(da, dc)
    }

    func testTopKOneIsGreedy() {
        var s = Sampler(SamplingParameters(temperature: 2, topK: 1, seed: 1))
        for _ in 0..<20 { XCTAssertEqual(s.sample(logits: logits, context: [], generated: []), 1) }
    }

    func testTopKRestrictsToBestK() {
        var s = Sampler(SamplingParameters(temperature: 5, topK: 2, seed: 3))
        let draws = Set((0..<200).map { _ in s.sample(logits: logits, context: [], generated: []) })
        XCTAssertEqual(draws, [1, 2])
    }

    func testTopPKeepsSmallestNucleus() {
        // probs of [10, 9, 0, ...]: the first two hold almost everything; top-p 0.5 keeps only the first.
        var s = Sampler(SamplingParameters(temperature: 1, topP: 0.5, seed: 4))
        let l: [Float] = [10, 9.9, 0, 0]
        for _ in 0..<50 { XCTAssertEqual(s.sample(logits: l, context: [], generated: []), 0) }
        var t = Sampler(SamplingParameters(temperature: 1, topP: 0.9, seed: 4))
        let draws = Set((0..<200).map { _ in t.sample(logits: l, context: [], generated: []) })
        XCTAssertEqual(draws, [0, 1])
    }

    func testMinPDropsUnlikelyTokens() {
        var s = Sampler(SamplingParameters(temperature: 1, minP: 0.5, seed: 5))
        // p ∝ e^2, e^1.9, e^1, ...: only tokens within half of the top probability survive (ids 1, 2).
        let draws = Set((0..<300).map { _ in s.sample(logits: logits, context: [], generated: []) })
        XCTAssertEqual(draws, [1, 2])
    }

    func testRepetitionPenaltyFollowsHFRule() {
        let s = Sampler(SamplingParameters(repetitionPenalty: 2))
        var l: [Float] = [1, -1, 3]
        s.applyPenalties(&l, context: [0, 1], generated: [])
        XCTAssertEqual(l, [0.5, -2, 3])
    }

    func testPresenceAndFrequencyPenalties() {
        let s = Sampler(SamplingParameters(presencePenalty: 0.5, frequencyPenalty: 0.25))
        var l: [Float] = [1, 1, 1]
        s.applyPenalties(&l, context: [0, 0, 2], generated: [0, 0, 2])
        XCTAssertEqual(l, [1 - 0.5 - 0.5, 1, 1 - 0.5 - 0.25])
    }

    func testInvalidParametersAreRejected() {
        XCTAssertThrowsError(try SamplingParameters(temperature: -1).validate())
        XCTAssertThrowsError(try SamplingParameters(topP: 0).validate())
        XCTAssertThrowsError(try SamplingParameters(minP: 2).validate())
        XCTAssertThrowsError(try SamplingParameters(temperature: .nan).validate())
        XCTAssertNoThrow(try SamplingParameters(temperature: 0.7, topK: 40, topP: 0.9).validate())
    }

    func testLogProbability() {
        let lp = Sampler.logProbability(of: 1, in: [0, 0])
        XCTAssertEqual(lp, Float(log(0.5)), accuracy: 1e-6)
    }
}

final class StopStringMatcherTests: XCTestCase {
    func testStopStringSplitAcrossChunksIsNeverShown() {
        var m = StopStringMatcher(["END"])
        var shown = ""
        var stopped = false
        for chunk in ["Hello E", "N", "D and more"] {
            let r = m.feed(chunk)
            shown += r.emit
            if r.stopped { stopped = true; break }
        }
        XCTAssertTrue(stopped)
        XCTAssertEqual(shown, "Hello ")
    }

    func testFalseAlarmIsReleased() {
        var m = StopStringMatcher(["END"])
        var shown = m.feed("The E").emit
        XCTAssertEqual(shown, "The ")
        shown += m.feed("nd").emit
        XCTAssertEqual(shown, "The End")
        XCTAssertEqual(m.flush(), "")
    }

    func testEarliestOfSeveralStops() {
        var m = StopStringMatcher(["b", "xyz"])
        let r = m.feed("axyzb")
        XCTAssertTrue(r.stopped)
        XCTAssertEqual(r.emit, "a")
    }

    func testNoStopsPassesEverything() {
        var m = StopStringMatcher([])
        XCTAssertEqual(m.feed("abc").emit, "abc")
    }
}
