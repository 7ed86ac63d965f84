@testable import PhiGeneration
import XCTest

/// The adaptive drafter's decisions, driven with made-up verification outcomes and call timings.
final class PromptLookupDrafterTests: XCTestCase {
    /// A context whose last 4 tokens occurred earlier, so a lookup always finds a 4-token match.
    let context = Array(0..<40) + Array(0..<5)

    func testLookupTakesTheLatestLongestMatch() {
        let d = PromptLookupDrafter()
        // [7, 8] occurs twice; the suffix [1, 7, 8] only at the start: the longest match wins.
        let long = d.lookup(context: [1, 7, 8, 2, 3, 7, 8, 4, 5, 1, 7, 8], count: 3)
        XCTAssertEqual(long.tokens, [2, 3, 7])
        XCTAssertEqual(long.match, 3)
        // Only the 2-gram matches: its latest occurrence.
        let short = d.lookup(context: [7, 8, 2, 9, 7, 8, 4, 6, 7, 8], count: 2)
        XCTAssertEqual(short.tokens, [4, 6])
        XCTAssertEqual(short.match, 2)
        XCTAssertEqual(d.lookup(context: [1, 2, 3, 4], count: 3).tokens, [])
        XCTAssertEqual(d.lookup(context: context, count: 0).tokens, [])
        XCTAssertEqual(d.lookup(context: context, count: 3).match, 4)
    }

    func testNoDraftBeforeAPlainCallWasTimed() {
        var d = PromptLookupDrafter()
        XCTAssertEqual(d.draft(context: context, limit: 8), [])
        d.recordPlain(seconds: 0.01)
        XCTAssertFalse(d.draft(context: context, limit: 8).isEmpty)
        XCTAssertEqual(d.draft(context: context, limit: 0), [])
    }

    /// Runs `steps` verifications of whatever the drafter proposes: `kept(k)` of k accepted, a call of k + 1 rows
    /// costing 1 + c·k plain calls.
    func drive(_ d: inout PromptLookupDrafter, steps: Int, c: Double, kept: (Int, Int) -> Int) {
        d.recordPlain(seconds: 0.1)
        for step in 0..<steps {
            let k = d.draft(context: context, limit: 16).count
            if k == 0 { d.recordPlain(seconds: 0.1); continue }
            d.record(proposed: k, accepted: kept(k, step), seconds: 0.1 * (1 + c * Double(k)))
        }
    }

    func testFullAcceptanceOnCheapRowsGrowsTheDraft() {
        var d = PromptLookupDrafter()
        d.recordPlain(seconds: 0.1)
        let first = d.draft(context: context, limit: 16).count
        drive(&d, steps: 20, c: 0.05) { k, _ in k }
        XCTAssertGreaterThan(d.acceptance(match: 4), 0.9)
        XCTAssertLessThan(d.rowCost, 0.1)
        XCTAssertGreaterThan(d.bestLength(limit: 16, match: 4), first)
        XCTAssertEqual(d.bestLength(limit: 16, match: 4), d.maxLength, "nearly free rows, all accepted: the longest draft")
        XCTAssertEqual(d.bestLength(limit: 3, match: 4), 3, "never past the limit")
        XCTAssertEqual(d.draft(context: context, limit: 16).count, d.maxLength)
    }

    func testExpensiveRowsKeepDraftsShort() {
        var cheap = PromptLookupDrafter(), dear = PromptLookupDrafter()
        // Most draft tokens accepted.
        drive(&cheap, steps: 40, c: 0.05) { k, step in step % 5 == 4 ? k / 2 : k }
        drive(&dear, steps: 40, c: 0.45) { k, step in step % 5 == 4 ? k / 2 : k }
        XCTAssertGreaterThan(cheap.rowCost, 0.03)
        XCTAssertGreaterThan(dear.rowCost, 0.3)
        XCTAssertGreaterThan(cheap.bestLength(limit: 16, match: 4), dear.bestLength(limit: 16, match: 4))
        XCTAssertGreaterThan(dear.bestLength(limit: 16, match: 4), 0, "high acceptance still pays at 0.45 per row")
    }

    func testLowAcceptanceTurnsDraftingOffAndProbesLater() {
        var d = PromptLookupDrafter()
        drive(&d, steps: 12, c: 0.3) { _, _ in 0 }
        XCTAssertEqual(d.bestLength(limit: 8, match: 4), 0)
        // Off: plain steps, then single-token probes, each failed one waiting longer for the next.
        func stepsToProbe() -> Int {
            var steps = 1
            while d.draft(context: context, limit: 8).isEmpty && steps < 1000 { steps += 1 }
            return steps
        }
        _ = stepsToProbe()
        var gaps: [Int] = []
        for _ in 0..<3 {
            d.record(proposed: 1, accepted: 0, seconds: 0.13)
            gaps.append(stepsToProbe())
        }
        XCTAssertGreaterThanOrEqual(gaps[0], 8)
        XCTAssertGreaterThan(gaps[1], gaps[0])
        XCTAssertGreaterThan(gaps[2], gaps[1])
        XCTAssertLessThan(gaps[2], 1000)
        // Probes that are accepted bring drafting back.
        for _ in 0..<4 { d.record(proposed: 1, accepted: 1, seconds: 0.13) }
        XCTAssertGreaterThan(d.bestLength(limit: 8, match: 4), 0)
    }

    func testAcceptanceIsLearnedPerMatchLength() {
        var d = PromptLookupDrafter()
        d.recordPlain(seconds: 0.1)
        let shortMatch = [7, 8, 2, 9, 7, 8, 4, 6, 7, 8]
        for _ in 0..<10 {
            let k = max(1, d.draft(context: shortMatch, limit: 4).count)
            d.record(proposed: k, accepted: 0, seconds: 0.1 * (1 + 0.3 * Double(k)))
        }
        XCTAssertEqual(d.bestLength(limit: 8, match: 2), 0, "2-token matches failed")
        XCTAssertGreaterThan(d.bestLength(limit: 8, match: 4), 0, "4-token matches are untouched")
    }

    func testNoisyTimingsAreClamped() {
        var d = PromptLookupDrafter()
        d.recordPlain(seconds: 0.01)
        d.recordPlain(seconds: .nan)
        d.recordPlain(seconds: -1)
        for _ in 0..<50 { d.record(proposed: 4, accepted: 4, seconds: 100) }  // absurd stalls
        XCTAssertLessThanOrEqual(d.rowCost, 2)
        for _ in 0..<50 { d.record(proposed: 4, accepted: 4, seconds: 0.001) }  // faster than a plain call
        XCTAssertGreaterThanOrEqual(d.rowCost, 0.01)
        XCTAssertEqual(d.proposed, 400)
        XCTAssertEqual(d.accepted, 400)
    }
}
