import Foundation
import XCTest
import PhiJSON

final class FoundationJSONTests: XCTestCase {
    func testValues() throws {
        let json = #"{"a":[1,-2,3.5,1e3,true,false,null],"s":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00z","b":"\#u{FEFF}k\#u{FEFF}"}"#
        let o = try XCTUnwrap(try FoundationJSON.parse(Data(json.utf8)) as? [String: Any])
        let a = try XCTUnwrap(o["a"] as? [Any])
        XCTAssertEqual(a[0] as? Int, 1)
        XCTAssertEqual(a[1] as? Int, -2)
        XCTAssertEqual(a[2] as? Double, 3.5)
        XCTAssertEqual(a[3] as? Double, 1000)
        XCTAssertEqual(a[4] as? Bool, true)
        XCTAssertTrue(a[6] is NSNull)
        XCTAssertEqual(o["s"] as? String, "x\"\\/\u{8}\u{c}\n\r\té😀z")
        // JSONReader turned a lone surrogate into U+FFFD; the strict parser refuses it (JSONEdgeCaseTests).
        XCTAssertThrowsError(try FoundationJSON.parse(Data(#"["\ud800z"]"#.utf8)))
        XCTAssertEqual(o["b"] as? String, "\u{FEFF}k\u{FEFF}")  // Foundation on Linux loses these
    }

    func testErrorsCarryOffsets() {
        for bad in ["", "{", "{\"a\" 1}", "[1,]", "\"\u{1}\"", "01x", "{\"a\":tru}", "[1] 2", "\"\\q\""] {
            XCTAssertThrowsError(try FoundationJSON.parse(Data(bad.utf8)), bad) { error in
                XCTAssertTrue("\(error)".contains("at byte"), "\(error)")
            }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try FoundationJSON.parse(Data(deep.utf8))) { XCTAssertTrue("\($0)".contains("deep")) }
    }

    func testLargeObjectsKeepOrder() throws {
        let members = (0..<5000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let v = try FoundationJSON.parse(Data("{\(members)}".utf8))
        let big = try XCTUnwrap(v as? JSONMembers)
        XCTAssertEqual(big.members.count, 5000)
        XCTAssertEqual(big.members[4999].0, "k4999")
    }
}
