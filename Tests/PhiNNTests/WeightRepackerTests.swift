import Foundation
import PhiKernels
@testable import PhiNN
import PhiTensor
import PhiTestSupport
import PhiWeights
import XCTest

/// Mapped quantized weights registered with a repacker serve from their GGML rows until repacked, with the
/// same outputs before and after; weights not given one are repacked at once.
final class WeightRepackerTests: XCTestCase {
    func mappedQuantized(rows: Int, cols: Int, type: DType, seed: UInt64) throws -> (Tensor, URL) {
        var rng = SplitMix64(seed: seed)
        let dense = TinyDecoder.tensor(rng.floats(rows * cols), [rows, cols])
        let q = try WeightQuantizer(type: type).transform("w.weight", dense)
        let url = TestFixtures.temporaryURL("repack.gguf")
        var w = GGUFWriter()
        w.set("general.architecture", .string("test"))
        w.addTensor(GGUFWriter.TensorLayout(name: "w.weight", dtype: q.dtype, shape: q.shape))
        try w.write(to: url) { _ in [UInt8](UnsafeRawBufferPointer(start: q.data, count: q.byteCount)) }
        let file = try GGUFFile(url: url)
        let t = try GGUFTensorSource(file: file, usesCanonicalNames: true).tensor("w.weight", shape: [rows, cols])
        XCTAssertTrue(t.isMapped)
        return (t, url)
    }

    func product(_ l: Linear, _ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * l.outFeatures)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in l(xb.baseAddress!, rows: rows, into: yb.baseAddress!, parallel: Parallel(threads: 2)) }
        }
        return y
    }

    func testBackgroundRepackChangesNoOutput() throws {
        for type in [DType.q4_0, .q8_0] {
            let (t, url) = try mappedQuantized(rows: 64, cols: 256, type: type, seed: 51)
            defer { try? FileManager.default.removeItem(at: url) }
            let repacker = WeightRepacker(parallel: Parallel(threads: 2))
            let deferred = try Linear(weight: t, name: "w", repacker: repacker)
            XCTAssertFalse(deferred.isRepacked)
            XCTAssertEqual(repacker.remaining, 1)
            var rng = SplitMix64(seed: 52)
            let x = rng.floats(3 * 256)
            let before = product(deferred, x, rows: 3)
            repacker.wait()
            XCTAssertEqual(repacker.remaining, 0)
            XCTAssertTrue(deferred.isRepacked)
            XCTAssertEqual(product(deferred, x, rows: 3), before, "\(type)")
            // Without a repacker the weight is repacked in the initializer, with the same outputs.
            let immediate = try Linear(weight: t, name: "w")
            XCTAssertTrue(immediate.isRepacked)
            XCTAssertEqual(product(immediate, x, rows: 3), before, "\(type)")
        }
    }

    func testCancelledRepackerLeavesWorkingWeights() throws {
        let (t, url) = try mappedQuantized(rows: 32, cols: 256, type: .q4_0, seed: 53)
        defer { try? FileManager.default.removeItem(at: url) }
        let repacker = WeightRepacker(parallel: Parallel(threads: 1))
        let l = try Linear(weight: t, name: "w", repacker: repacker)
        repacker.cancel()
        repacker.wait()
        XCTAssertEqual(repacker.remaining, 1)
        XCTAssertFalse(l.isRepacked)
        let x = [Float](repeating: 0.5, count: 256)
        XCTAssertEqual(product(l, x, rows: 1), product(try Linear(weight: t, name: "w"), x, rows: 1))
    }
}
