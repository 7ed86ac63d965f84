import Foundation
import PhiKit
import PhiWeights
import XCTest

/// Q5_0, the type added through the type table alone: a GGUF whose projections are Q5_0 loads, runs through
/// the Q5_0 kernels, and gives the same logits as quantizing the HF folder to Q5_0 at load time (`--quantize q5_0`).
final class GGUFQ5_0Tests: XCTestCase {
    let ids = [54, 345, 83, 291, 262, 348, 344, 286, 347, 295, 30]

    func logits(_ loaded: LoadedModel) throws -> [Float] {
        try loaded.model.forward(ids, cache: loaded.model.makeCache(maxLength: nil), logits: .all)
    }

    func testQ5_0GGUFLoadsAndMatchesLoadTimeQuantization() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-tiny-q5_0.gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try GGUFModelTests.writeTinyGGUF(to: url, quantize: .q5_0)
        let file = try GGUFFile(url: url)
        let q5 = file.tensorInfos.filter { $0.type.id == 6 }
        XCTAssertGreaterThan(q5.count, 0, "the file holds Q5_0 tensors")
        XCTAssertEqual(GGMLType(id: 6)?.dtype, .q5_0)

        let fromFile = try ModelLoader.load(path: url.path, threads: 2)
        let q = try XCTUnwrap(LoadQuantization(name: "q5_0"))
        XCTAssertEqual(q.dtype, .q5_0)
        let atLoad = try ModelLoader.load(path: GGUFModelTests.tiny.path, threads: 2, quantize: q)
        let a = try logits(fromFile), b = try logits(atLoad)
        XCTAssertEqual(a.count, b.count)
        XCTAssertTrue(a == b, "same quantizer and kernels: max diff \(zip(a, b).map { abs($0 - $1) }.max() ?? -1)")

        // Between Q8_0 and Q4_0 in error against the f32 model (their bounds in GGUFModelTests: nmse 3e-3, 0.3).
        let exact = try logits(try ModelLoader.load(path: GGUFModelTests.tiny.path, threads: 2))
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, exact) { num += Double((x - y) * (x - y)); den += Double(y * y) }
        print("Q5_0 GGUF: nmse \(num / den)")
        XCTAssertGreaterThan(num, 0, "Q5_0 must actually quantize")
        XCTAssertLessThan(num / den, 0.1)
    }
}
