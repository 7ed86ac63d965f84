import Foundation
import XCTest
import PhiJSON

final class PhiJSONDecoderTests: XCTestCase {
    struct Sample: Decodable, Equatable {
        var count: Int
        var ratio: Double
        var half: Float?
        var flag: Bool
        var name: String
        var ids: [Int]
        var nested: Nested?
        var raw: JSONValue?

        struct Nested: Decodable, Equatable {
            var depth: UInt8
            enum CodingKeys: String, CodingKey { case depth = "max_depth" }
        }

        enum CodingKeys: String, CodingKey {
            case count, ratio, half, flag, name, ids, nested, raw
        }
    }

    private func decode(_ json: String) throws -> Sample {
        try PhiJSONDecoder().decode(Sample.self, from: Data(json.utf8))
    }

    private func message(_ json: String) -> String {
        do { _ = try decode(json); return "(accepted)" } catch { return PhiJSONDecoder.message(for: error) }
    }

    func testDecodesWithExactNumbers() throws {
        let s = try decode(#"{"count": 1, "ratio": 1, "half": 0.1, "flag": true, "name": "x", "ids": [0, 1, 2e0], "nested": {"max_depth": 1.0}, "raw": [1, "a"]}"#)
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s.ratio, 1.0)
        XCTAssertEqual(s.half, Float(Double("0.1")!))
        XCTAssertEqual(s.flag, true)
        XCTAssertEqual(s.ids, [0, 1, 2])
        XCTAssertEqual(s.nested?.depth, 1)
        XCTAssertEqual(s.raw, .array([.number("1"), .string("a")]))
        let t = try decode(#"{"count": 0, "ratio": 0, "flag": false, "name": "", "ids": [], "nested": null}"#)
        XCTAssertNil(t.nested)
        XCTAssertNil(t.half)
    }

    func testRejectsWithPathAndReason() {
        let base = #""ratio": 1, "flag": true, "name": "x", "ids": [1]"#
        XCTAssertEqual(message(#"{"count": true, \#(base)}"#), "'count': expected an integer, found true")
        XCTAssertEqual(message(#"{"count": 1.5, \#(base)}"#), "'count': 1.5 is not an integer")
        XCTAssertEqual(message(#"{"count": 1e400, \#(base)}"#), "'count': 1e400 is out of range for Int")
        XCTAssertEqual(message(#"{"count": 9223372036854775808, \#(base)}"#), "'count': 9223372036854775808 is out of range for Int")
        XCTAssertEqual(message(#"{"count": 1, "ratio": 1, "flag": 1, "name": "x", "ids": [1]}"#), "'flag': expected true or false, found 1")
        XCTAssertEqual(message(#"{"count": 1, "ratio": 1e400, "flag": true, "name": "x", "ids": [1]}"#), "'ratio': 1e400 is out of range for a 64-bit float")
        XCTAssertEqual(message(#"{"count": 1, "half": 1e39, \#(base)}"#), "'half': 1e39 is out of range for a 32-bit float")
        XCTAssertEqual(message(#"{"count": 1, "ratio": 1, "flag": true, "name": "x", "ids": [1, "2"]}"#), "'ids[1]': expected an integer, found \"2\"")
        XCTAssertEqual(message(#"{"count": 1, \#(base), "nested": {"max_depth": 300}}"#), "'nested.max_depth': 300 is out of range for UInt8")
        XCTAssertEqual(message(#"{"ratio": 1, "flag": true, "name": "x", "ids": [1]}"#), "missing 'count'")
        XCTAssertEqual(message(#"{"count": null, \#(base)}"#), "'count': expected an integer, found null")
        XCTAssertTrue(message(#"{"count": 1, "count": 2}"#).hasPrefix("not valid JSON: duplicate key \"count\" at byte"))
        XCTAssertEqual(message("[1]"), "expected an object, found an array of 1")
    }

    func testDropInForFoundationsDecoder() throws {
        struct Point: Decodable, Equatable { var x: Int; var y: [Double]; var tag: String? }
        let data = Data(#"{"x": 3, "y": [1.5, -2], "tag": null}"#.utf8)
        XCTAssertEqual(try PhiJSONDecoder().decode(Point.self, from: data), try JSONDecoder().decode(Point.self, from: data))
        XCTAssertEqual(try PhiJSONDecoder().decode([String: Int].self, from: Data(#"{"a": 1, "b": 2}"#.utf8)), ["a": 1, "b": 2])
        XCTAssertEqual(try PhiJSONDecoder().decode([Int?].self, from: Data("[1, null]".utf8)), [1, nil])
        // JSONValue decodes from Foundation's decoder too (keys sorted there: Foundation does not keep order).
        XCTAssertEqual(try JSONDecoder().decode(JSONValue.self, from: Data(#"{"b": [true, null], "a": "s"}"#.utf8)),
                       .object(JSONObject([("a", .string("s")), ("b", .array([.bool(true), .null]))])))
    }
}
