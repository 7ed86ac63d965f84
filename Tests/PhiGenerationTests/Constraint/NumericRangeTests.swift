import Foundation
import XCTest
@testable import PhiGeneration
import PhiTokenizer

/// `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`: the compiled language holds exactly the
/// numbers in range, checked text by text against the bounds computed here.
final class NumericRangeTests: XCTestCase {
    private func compile(_ schema: String) throws -> CompiledConstraint {
        try Constraint.jsonSchema(schema).compile(for: try ConstraintPropertyTests.tinyTokenizer.get(), useCache: false)
    }

    /// The compiled schema, or nil when compiling says no value fits, which must then agree with `empty` (no
    /// candidate text in range).
    private func compileUnlessEmpty(_ schema: String, empty: Bool) throws -> CompiledConstraint? {
        do {
            return try compile(schema)
        } catch ConstraintError.unsatisfiable {
            XCTAssertTrue(empty, "\(schema) was called unsatisfiable, but values lie in range")
            return nil
        }
    }

    private func accepts(_ c: CompiledConstraint, _ text: String) -> Bool {
        var m = c.makeMatcher()
        return m.accept(bytes: Array(text.utf8)) && m.isComplete
    }

    private struct Bounds {
        var low: Double?, high: Double?, exLow = false, exHigh = false
        var schemaKeys: String {
            var keys: [String] = []
            if let low { keys.append(#""\#(exLow ? "exclusiveMinimum" : "minimum")":\#(Self.text(low))"#) }
            if let high { keys.append(#""\#(exHigh ? "exclusiveMaximum" : "maximum")":\#(Self.text(high))"#) }
            return keys.joined(separator: ",")
        }
        static func text(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
        func contains(_ d: Double) -> Bool {
            if let low, exLow ? !(d > low) : !(d >= low) { return false }
            if let high, exHigh ? !(d < high) : !(d <= high) { return false }
            return true
        }
        /// Exact for decimal text against whole-number bounds (Double would round 5.9999999999999999 to 6).
        func contains(decimal t: String) -> Bool {
            if let low, let c = Self.compare(t, Int(low)), exLow ? c <= 0 : c < 0 { return false }
            if let high, let c = Self.compare(t, Int(high)), exHigh ? c >= 0 : c > 0 { return false }
            return true
        }
        /// The sign of (value of `t`) − b.
        static func compare(_ t: String, _ b: Int) -> Int? {
            let negative = t.hasPrefix("-")
            let body = negative ? t.dropFirst() : Substring(t)
            let parts = body.split(separator: ".", omittingEmptySubsequences: false)
            guard let whole = Int(parts[0]) else { return nil }
            let fractional = parts.count > 1 && parts[1].contains { $0 != "0" }
            // m = whole + f (0 ≤ f < 1) against c: below if whole < c, above if whole > c, else above iff f > 0
            func cmp(_ c: Int) -> Int { whole < c ? -1 : whole > c ? 1 : (fractional ? 1 : 0) }
            return negative ? -cmp(-b) : cmp(b)
        }
    }

    /// Every integer text from -1,200 to 1,200 is accepted exactly when it is in range, for fixed and random bounds
    /// (fractional ones included: they round inward); no leading zeros, `-0` or fractions.
    func testIntegerRangesAreExact() throws {
        var cases: [Bounds] = [
            Bounds(low: 0), Bounds(low: 0, exLow: true), Bounds(high: -1), Bounds(low: -7, high: 120),
            Bounds(low: 95, high: 1001, exHigh: true), Bounds(low: 1, high: 1), Bounds(low: -1000, high: -10),
            Bounds(low: 0.5, high: 9.5), Bounds(low: -2.5, high: 3.5, exLow: true, exHigh: true), Bounds(low: 99, high: 100),
        ]
        var rng = TestRNG(41)
        for _ in 0..<24 {
            var b = Bounds()
            let lo = Double(rng.int(2400) - 1200) / (rng.chance(0.2) ? 4 : 1)
            if rng.chance(0.85) { b.low = lo; b.exLow = rng.chance(0.5) }
            if rng.chance(0.85) { b.high = lo + Double(rng.int(1300)); b.exHigh = rng.chance(0.5) }
            cases.append(b)
        }
        for b in cases {
            let schema = #"{"type":"integer",\#(b.schemaKeys)}"#
            guard let c = try compileUnlessEmpty(schema, empty: !(-1200...1200).contains { b.contains(Double($0)) }) else { continue }
            var wrong: [String] = []
            for n in -1200...1200 where accepts(c, String(n)) != b.contains(Double(n)) { wrong.append(String(n)) }
            XCTAssertEqual(wrong.prefix(10), [], schema)
            for bad in ["-0", "00", "01", "-01", "1.0", "1e2", "+1"] { XCTAssertFalse(accepts(c, bad), "\(schema) took \(bad)") }
        }
    }

    /// Numbers with whole-number bounds, inclusive and exclusive: integer part, fraction with zeros and trailing
    /// zeros, near each bound; `-0…` stands for 0 and is not written; no exponent.
    func testNumberRangesAreExact() throws {
        var texts: [String] = []
        for k in 0...6 {
            for frac in ["", ".0", ".00", ".5", ".05", ".50", ".0001", ".9999999999999999", ".0000000000000001"] {
                texts.append("\(k)\(frac)")
                if k > 0 || frac.contains(where: { "123456789".contains($0) }) { texts.append("-\(k)\(frac)") }
            }
        }
        var cases: [Bounds] = [
            Bounds(low: 0), Bounds(low: 0, exLow: true), Bounds(low: 0, high: 1), Bounds(low: 0, high: 1, exLow: true, exHigh: true),
            Bounds(low: -3, high: -1, exLow: true, exHigh: true), Bounds(high: 0, exHigh: true), Bounds(high: -2),
            Bounds(low: 2, high: 2), Bounds(low: -5, high: 5), Bounds(low: -1, high: 0, exHigh: true), Bounds(low: 3, high: 4, exLow: true),
        ]
        var rng = TestRNG(43)
        for _ in 0..<24 {
            var b = Bounds()
            let lo = Double(rng.int(13) - 6)
            if rng.chance(0.85) { b.low = lo; b.exLow = rng.chance(0.5) }
            if rng.chance(0.85) { b.high = lo + Double(rng.int(7)); b.exHigh = rng.chance(0.5) }
            cases.append(b)
        }
        for b in cases {
            let schema = #"{"type":"number",\#(b.schemaKeys)}"#
            guard let c = try compileUnlessEmpty(schema, empty: !texts.contains { b.contains(decimal: $0) }) else { continue }
            var wrong: [String] = []
            for t in texts where accepts(c, t) != b.contains(decimal: t) { wrong.append(t) }
            XCTAssertEqual(wrong.prefix(10), [], schema)
            for bad in ["-0", "-0.0", "1e0", "01", ".5", "1.", "1.00000000000000001"] { XCTAssertFalse(accepts(c, bad), "\(schema) took \(bad)") }
        }
    }

    /// Bounds at and beyond the 16 digits the grammar writes; integer bound text is read exactly (2^53 + 1).
    func testLargeBoundsAndDraft4Booleans() throws {
        let big = try compile(#"{"type":"integer","minimum":-9007199254740993,"maximum":12345678901234567890}"#)
        XCTAssertTrue(accepts(big, "-9007199254740993"))
        XCTAssertFalse(accepts(big, "-9007199254740994"))
        XCTAssertTrue(accepts(big, "9999999999999999"))
        XCTAssertFalse(accepts(big, "10000000000000000"))
        let positive = try compile(#"{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1}"#)
        XCTAssertFalse(accepts(positive, "0"))
        XCTAssertFalse(accepts(positive, "0.000"))
        XCTAssertTrue(accepts(positive, "0.001"))
        XCTAssertTrue(accepts(positive, "1.0"))
        XCTAssertFalse(accepts(positive, "1.01"))
        // the tighter of minimum and exclusiveMinimum wins; without a type, range keywords mean a number
        let tight = try compile(#"{"minimum":2,"exclusiveMinimum":2,"maximum":3}"#)
        XCTAssertFalse(accepts(tight, "2"))
        XCTAssertTrue(accepts(tight, "2.5"))
        XCTAssertTrue(accepts(tight, "3"))
        // inside an object, with a null alternative
        let obj = try compile(#"{"type":"object","properties":{"age":{"type":["integer","null"],"minimum":0,"maximum":150}},"required":["age"]}"#)
        XCTAssertTrue(accepts(obj, #"{"age": 34}"#))
        XCTAssertTrue(accepts(obj, #"{"age":null}"#))
        XCTAssertFalse(accepts(obj, #"{"age": -1}"#))
        XCTAssertFalse(accepts(obj, #"{"age": 151}"#))
    }
}
