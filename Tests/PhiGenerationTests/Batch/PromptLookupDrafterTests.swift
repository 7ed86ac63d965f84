@testable import PhiGeneration
import XCTest

/// The adaptive drafter's decisions, driven with made-up verification outcomes and call timings.
final class PromptLookupDrafterTests: XCTestCase {
    /// A context whose suffix occurred earlier, so a lookup always finds a continuation.
    let context = Array(0..<40) + Array(0..<5)

    func testLookupTakesTheLatestLongestMatch() {
        let d = PromptLookupDrafter()
        // [7, 8] occurs twice; the suffix [1, 7, 8] only at the start: the longest match wins.
        XCTAssertEqual(d.lookup(context: [1, 7, 8, 2, 3, 7, 8, 4, 5, 1, 7, 8], count: 3), [2, 3, 7])
        // Only the 2-gram matches: its latest occurrence.
        XCTAssertEqual(d.lookup(context: [7, 8, 2, 9, 7, 8, 4, 6, 7, 8], count: 2), [4, 6])
        XCTAssertEqual(d.lookup(context: [1, 2, 3, 4], count: 3), [])
        XCTAssertEqual(d.lookup(context: context, count: 0), [])
    }

    func testNoDraftBeforeAPlainCallWasTimed() {
        var d = PromptLookupDrafter()
        XCTAssertEqual(d.draft(context: context, limit: 8), [])
        d.recordPlain(seconds: 0.01)
        XCTAssertFalse(d.draft(context: context, limit: 8).isEmpty)
    }

    func testFullAcceptanceOnCheapRowsGrowsTheDraft() {
        var d = PromptLookupDrafter()
        d.recordPlain(seconds: 0.010)
        let first = d.draft(context: context, limit: 16).count
        for _ in 0..<20 {
            let k = d.draft(context: context, limit: 16).count
            d.record(proposed: k, accepted: k, seconds: 0.010 * (1 + 0.05 * Double(k)))
        }
        XCTAssertGreaterThan(d.acceptance, 0.9)
        XCTAssertLessThan(d.rowCost, 0.1)
        XCTAssertGreaterThan(d.bestLength(limit: 16), first)
        XCTAssertEqual(d.bestLength(limit: 16), 16, "nearly free rows, all accepted: the longest draft")
        XCTAssertEqual(d.bestLength(limit: 3), 3, "never past the limit")
    }

    func testExpensiveRowsKeepDraftsShort() {
        var cheap = PromptLookupDrafter(), dear = PromptLookupDrafter()
        for (i, c) in [0.05, 0.45].enumerated() {
            var d = i == 0 ? cheap : dear
            d.recordPlain(seconds: 0.1)
            for n in 0..<30 {
                // 80 % of the tokens accepted: a rejection every fifth token.
                let k = 5, kept = n % 2 == 0 ? 5 : 3
                d.record(proposed: k, accepted: kept, seconds: 0.1 * (1 + c * Double(k)))
            }
            if i == 0 { cheap = d } else { dear = d }
        }
        XCTAssertGreaterThan(cheap.bestLength(limit: 16), dear.bestLength(limit: 16))
        XCTAssertGreaterThan(dear.bestLength(limit: 16), 0, "80 % acceptance still pays at 0.45 per row")
    }

    func testLowAcceptanceTurnsDraftingOffAndProbesLater() {
        var d = PromptLookupDrafter()
        d.recordPlain(seconds: 0.01)
        for _ in 0..<10 { d.record(proposed: 2, accepted: 0, seconds: 0.016) }
        XCTAssertEqual(d.bestLength(limit: 8), 0)
        // Off: plain steps, then one single-token probe after the interval.
        var steps = 0
        var probe: [Int] = []
        while probe.isEmpty && steps < 1000 {
            probe = d.draft(context: context, limit: 8)
            steps += 1
        }
        XCTAssertEqual(probe.count, 1)
        XCTAssertGreaterThanOrEqual(steps, 8)
        // A failed probe waits longer for the next one.
        d.record(proposed: 1, accepted: 0, seconds: 0.013)
        var next = 0
        while d.draft(context: context, limit: 8).isEmpty && next < 1000 { next += 1 }
        XCTAssertGreaterThan(next + 1, steps)
        // Probes that are accepted bring drafting back.
        for _ in 0..<4 { d.record(proposed: 1, accepted: 1, seconds: 0.013) }
        XCTAssertGreaterThan(d.bestLength(limit: 8), 0)
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
