import Foundation
import XCTest
@testable import PhiJSON

/// The edge cases a strict parser must decide, each pinned: numbers, duplicates, nesting, UTF-8, BOM, trailing data.
final class JSONEdgeCaseTests: XCTestCase {
    private func error(_ bytes: [UInt8], limits: JSONParser.Limits = .init()) -> JSONParseError? {
        do { _ = try JSONParser.parse(bytes, limits: limits); return nil } catch { return error }
    }

    func testNumbersKeepTheirText() throws {
        // Past Int64, -0, beyond Double: all parse (JSON allows them); what they mean is the decoder's call.
        XCTAssertEqual(try JSONParser.parse("123456789012345678901234567890"), .number("123456789012345678901234567890"))
        XCTAssertNil(try JSONParser.parse("123456789012345678901234567890").intValue)
        XCTAssertEqual(try JSONParser.parse("-0"), .number("-0"))
        XCTAssertEqual(try JSONParser.parse("-0").intValue, 0)
        XCTAssertEqual(try JSONParser.parse("1e400"), .number("1e400"))
        XCTAssertNil(try JSONParser.parse("1e400").doubleValue, "1e400 is not a finite Double")
        // true, 1 and 1.0 are three different values.
        XCTAssertNotEqual(try JSONParser.parse("true"), try JSONParser.parse("1"))
        XCTAssertNil(try JSONParser.parse("1").boolValue)
        XCTAssertNil(try JSONParser.parse("true").intValue)
        XCTAssertNil(try JSONParser.parse("1.0").intValue, "intValue is for integer literals only")
        for bad in ["+1", ".5", "1.", "1e", "1e+", "-", "0x10", "NaN", "Infinity", "-Infinity", "00", "-01"] {
            XCTAssertNotNil(error(Array(bad.utf8)), bad)
        }
    }

    func testExactIntegralReading() {
        XCTAssertEqual(JSONNumber.exactInteger("1.0", as: Int.self), 1)
        XCTAssertEqual(JSONNumber.exactInteger("1e3", as: Int.self), 1000)
        XCTAssertEqual(JSONNumber.exactInteger("300e-2", as: Int.self), 3)
        XCTAssertEqual(JSONNumber.exactInteger("-0.0", as: Int.self), 0)
        XCTAssertEqual(JSONNumber.exactInteger("0e999999999999", as: Int.self), 0)
        XCTAssertEqual(JSONNumber.exactInteger("9223372036854775807", as: Int.self), Int.max)
        XCTAssertEqual(JSONNumber.exactInteger("-9223372036854775808", as: Int.self), Int.min)
        XCTAssertNil(JSONNumber.exactInteger("9223372036854775808", as: Int.self))
        XCTAssertEqual(JSONNumber.exactInteger("18446744073709551615", as: UInt64.self), UInt64.max)
        XCTAssertNil(JSONNumber.exactInteger("-1", as: UInt64.self))
        XCTAssertNil(JSONNumber.exactInteger("1.5", as: Int.self))
        XCTAssertNil(JSONNumber.exactInteger("1.0000000000000000001", as: Int.self), "not integral although Double rounds it to 1")
        XCTAssertNil(JSONNumber.exactInteger("1e400", as: Int.self))
        XCTAssertNil(JSONNumber.exactInteger("1e-999999999999999999999", as: Int.self))
        XCTAssertNil(JSONNumber.exactInteger("256", as: UInt8.self))
    }

    func testDuplicateKeysAreRejectedByteForByte() throws {
        XCTAssertEqual(error(Array("{\"a\":1,\"b\":2,\"a\":3}".utf8))?.message, "duplicate key \"a\"")
        XCTAssertEqual(error(Array("{\"a\":1,\"b\":2,\"a\":3}".utf8))?.offset, 13)
        // An escape spelling the same key is the same key.
        XCTAssertNotNil(error(Array("{\"a\":1,\"\\u0061\":2}".utf8)))
        // Duplicates in a large object (the hashed path) too.
        let many = (0..<5000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        XCTAssertNotNil(error(Array("{\(many),\"k4321\":0}".utf8)))
        let big = try JSONParser.parse("{\(many)}")
        XCTAssertEqual(big["k4321"], .number("4321"))
        XCTAssertNil(big["k5000"])
        XCTAssertEqual(big.objectValue?.keys.last, "k4999")
        // Canonically equivalent but different keys ("é" precomposed and decomposed) are two keys.
        let o = try XCTUnwrap(JSONParser.parse("{\"\u{E9}\":1,\"e\u{301}\":2}").objectValue)
        XCTAssertEqual(o.count, 2)
        XCTAssertEqual(o["\u{E9}"], .number("1"))
        XCTAssertEqual(o["e\u{301}"], .number("2"))
    }

    func testDeepNestingIsBoundedNotACrash() {
        for open in ["[", "{\"a\":"] {
            let deep = Array(String(repeating: open, count: 1_000_000).utf8)
            XCTAssertEqual(error(deep)?.message, "nesting deeper than 128", open)
        }
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        XCTAssertNotNil(error(Array(("[" + ok + "]").utf8)))
    }

    func testInvalidUTF8AndSurrogates() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
                               [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x61, 0xE2, 0x82, 0x22], [0x5B, 0xC3, 0xA9, 0x5D]] {
            XCTAssertNotNil(error(bytes), "\(bytes)")
        }
        XCTAssertEqual(error([0x22, 0x61, 0x62, 0xFF, 0x22])?.offset, 3)
        // The first problem in byte order is reported, also when the string then breaks off or holds a control.
        XCTAssertEqual(error([0x22, 0x61, 0xFF, 0x01, 0x22]), JSONParseError(offset: 2, message: "invalid UTF-8 in string"))
        XCTAssertEqual(error([0x22, 0x61, 0xE2, 0x82]), JSONParseError(offset: 2, message: "invalid UTF-8 in string"))
        XCTAssertEqual(error([0x22, 0x5C, 0x6E, 0xFF, 0x22])?.message, "invalid UTF-8 in string", "after an escape too")
        XCTAssertTrue(error(Array("\"\\ud800\"".utf8))?.message.contains("unpaired high surrogate") ?? false)
        XCTAssertTrue(error(Array("\"\\ud800\\u0041\"".utf8))?.message.contains("low surrogate") ?? false)
        XCTAssertTrue(error(Array("\"\\udc00x\"".utf8))?.message.contains("unpaired low surrogate") ?? false)
        XCTAssertEqual(try JSONParser.parse("\"\\ud83d\\ude00\"").stringValue, "😀")
    }

    func testByteOrderMarks() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        XCTAssertEqual(try JSONParser.parse(bom + Array("{\"a\":1}".utf8))["a"], .number("1"))
        XCTAssertNotNil(error(bom + Array("{}".utf8), limits: .init(allowsByteOrderMark: false)))
        XCTAssertNotNil(error(Array(" ".utf8) + bom + Array("{}".utf8)), "only at the very start")
        // U+FEFF inside strings is a character like any other: kept raw, escaped, at the start or after an escape.
        XCTAssertEqual(try JSONParser.parse("\"\u{FEFF}x\"").stringValue, "\u{FEFF}x")
        XCTAssertEqual(try JSONParser.parse("\"\\ufeff\"").stringValue?.unicodeScalars.first, "\u{FEFF}")
        XCTAssertEqual(try JSONParser.parse("\"\\n\u{FEFF}\"").stringValue?.unicodeScalars.map(\.value), [0x0A, 0xFEFF])
        let any = try FoundationJSON.parse(Data("{\"\u{FEFF}k\":\"\u{FEFF}\"}".utf8)) as? [String: Any]
        XCTAssertEqual((any?["\u{FEFF}k"] as? String)?.unicodeScalars.first, "\u{FEFF}")
    }

    func testTrailingData() {
        for bad in ["{} {}", "[1] 2", "1 2", "\"a\"\"b\"", "{}x", "null,"] {
            XCTAssertTrue(error(Array(bad.utf8))?.message.contains("trailing") ?? false, bad)
        }
        XCTAssertNoThrow(try JSONParser.parse(" \n\t{}\r\n "))
        XCTAssertNotNil(error([0x7B, 0x7D, 0x00]), "a NUL after the value is trailing data")
    }

    func testFoundationStyleValuesNeverMixBoolsAndNumbers() throws {
        let v = try XCTUnwrap(FoundationJSON.parse(Data("{\"t\":true,\"one\":1,\"zero\":0,\"f\":1.0,\"big\":12345678901234567890}".utf8)) as? [String: Any])
        XCTAssertEqual(v["t"] as? Bool, true)
        XCTAssertNil(v["t"] as? Int)
        XCTAssertEqual(v["one"] as? Int, 1)
        XCTAssertNil(v["one"] as? Bool)
        XCTAssertNil(v["zero"] as? Bool)
        XCTAssertEqual(v["f"] as? Double, 1.0)
        XCTAssertNil(v["f"] as? Bool)
        XCTAssertEqual(v["big"] as? Double, 12345678901234567890.0)
        XCTAssertThrowsError(try FoundationJSON.parse(Data("[1e400]".utf8)))
        let many = (0..<5000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let big = try XCTUnwrap(FoundationJSON.parse(Data("{\(many)}".utf8)) as? JSONMembers)
        XCTAssertEqual(big.members.count, 5000)
        XCTAssertEqual(big.members[4999].0, "k4999")
        XCTAssertEqual(big.members[4999].1 as? Int, 4999)
    }

    func testErrorOffsetIsWhereTheProblemIs() {
        XCTAssertEqual(error(Array("{\"a\":[1,2,}".utf8)), JSONParseError(offset: 10, message: "unexpected character '}', expected a value"))
    }
}
