import XCTest
@testable import PhiJSON

final class JSONParserTests: XCTestCase {
    private func parse(_ s: String, maxDepth: Int = 64) throws -> JSONValue {
        try JSONParser.parse(s, limits: .init(maxDepth: maxDepth))
    }

    private func assertRejects(_ s: String, _ fragment: String, maxDepth: Int = 64, line: UInt = #line) {
        do {
            _ = try JSONParser.parse(s, limits: .init(maxDepth: maxDepth))
            XCTFail("accepted \(s)", line: line)
        } catch {
            XCTAssertTrue(error.message.contains(fragment), "'\(error)' lacks '\(fragment)'", line: line)
        }
    }

    func testValues() throws {
        let v = try parse(" {\"a\": [1, -2, 3.5e2, true, false, null, \"x\\n\\u00e9\\ud83d\\ude00\"], \"b\": {}} ")
        guard let o = v.objectValue, let a = o["a"]?.arrayValue else { return XCTFail("not an object") }
        XCTAssertEqual(o.keys, ["a", "b"])
        XCTAssertEqual(a[0].intValue, 1)
        XCTAssertEqual(a[1].intValue, -2)
        XCTAssertNil(a[2].intValue)
        XCTAssertEqual(a[2].doubleValue, 350)
        XCTAssertEqual(a[3], .bool(true))
        XCTAssertEqual(a[5], .null)
        XCTAssertEqual(a[6].stringValue, "x\né😀")
        XCTAssertEqual(o["b"], .object(JSONObject([])))
    }

    func testLargeIntegersAreExact() throws {
        XCTAssertEqual(try parse("9007199254740993").intValue, 9_007_199_254_740_993)
        XCTAssertEqual(try parse("-9223372036854775808").intValue, Int.min)
        XCTAssertNil(try parse("9223372036854775808").intValue)
    }

    func testRejections() {
        assertRejects("{\"a\":1,\"a\":2}", "duplicate key")
        assertRejects("{\"a\":1} x", "trailing")
        assertRejects("{\"a\":1,}", "expected a string key")
        assertRejects("[1,]", "expected a value")
        assertRejects("01", "leading zeros")
        assertRejects("1.", "decimal point")
        assertRejects("\"\\ud800\"", "surrogate")
        assertRejects("\"\\udc00\"", "surrogate")
        assertRejects("\"a\tb\"", "control character")
        assertRejects("\"\\x\"", "invalid escape")
        assertRejects("tru", "literal")
        assertRejects("{\"a\" 1}", "':'")
        assertRejects("", "end of input")
        assertRejects("[\"abc", "unterminated")
        assertRejects(String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nesting deeper")
        assertRejects("{\"a\":{\"b\":{}}}", "nesting deeper", maxDepth: 2)
    }

    func testInvalidUTF8() {
        let cases: [[UInt8]] = [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82]]
        for bytes in cases {
            XCTAssertThrowsError(try JSONParser.parse(bytes), "\(bytes)") { error in
                XCTAssertTrue("\(error)".contains("UTF-8"))
            }
        }
        XCTAssertEqual(try JSONParser.parse(Array("\"€𝄞\"".utf8)).stringValue, "€𝄞")
    }

    func testSizeLimit() {
        XCTAssertThrowsError(try JSONParser.parse("[1,2,3]", limits: .init(maxBytes: 4)))
    }

    func testQuoteRoundTrips() throws {
        let s = "a\"b\\c\n\u{1}é😀"
        XCTAssertEqual(try parse(JSONText.quote(s)).stringValue, s)
    }
}
