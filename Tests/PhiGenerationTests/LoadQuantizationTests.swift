import PhiKit
import XCTest

/// The names `--quantize` accepts, resolved against the type table.
final class LoadQuantizationTests: XCTestCase {
    func testNames() {
        let cases: [(String, DType?)] = [
            ("none", nil), ("bf16", nil), ("F16", nil), ("f32", .f32), ("q8", .q8_0), ("q8_0", .q8_0), ("q4", .q4_0),
            ("Q4_0", .q4_0), ("q4_1", .q4_1), ("q5_0", .q5_0), ("q4_k", .q4_K), ("q4k", .q4_K), ("Q6_K", .q6_K),
            ("q6k", .q6_K), ("q5k", .q5_K),
        ]
        for (name, dtype) in cases {
            guard let q = LoadQuantization(name: name) else { XCTFail("\(name) rejected"); continue }
            XCTAssertEqual(q.dtype, dtype, name)
        }
        for bad in ["", "q3", "q5_1", "iq4_nl", "q8_k", "bogus"] { XCTAssertNil(LoadQuantization(name: bad), bad) }
        XCTAssertNil(LoadQuantization(.f16), "f16 is not a conversion target")
        XCTAssertEqual(LoadQuantization.none.dtype, nil)
    }
}
