import Foundation
import XCTest
@testable import PhiWeights

final class NpyTests: TempDirTestCase {
    /// `np.save(path, np.array([[1.5, -2, 3.25], [0, 1e-3, 65504]], dtype='<f4'))` with NumPy 2.4.
    private let numpyBytes: [UInt8] = {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(header.utf8)
        b += Array(repeating: 0x20, count: 128 - 1 - b.count) + [0x0A]
        b += [0, 0, 192, 63, 0, 0, 0, 192, 0, 0, 80, 64, 0, 0, 0, 0, 111, 18, 131, 58, 0, 224, 127, 71]
        return b
    }()

    func testWriterMatchesNumPyByteForByte() throws {
        let bytes = try NpyWriter.encode(shape: [2, 3], values: [1.5, -2, 3.25, 0, 1e-3, 65504])
        XCTAssertEqual(bytes, numpyBytes)
    }

    func testReadNumPyFile() throws {
        let url = try writeBytes(numpyBytes, name: "ref.npy")
        let a = try NpyReader.read(path: url.path)
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.values, [1.5, -2, 3.25, 0, 1e-3, 65504])
    }

    func testRoundTripShapes() throws {
        for shape in [[], [5], [2, 3], [1, 2, 3, 4], [0, 7]] {
            let n = shape.reduce(1, *)
            let values = (0..<n).map { Float($0) * 0.5 - 3 }
            let path = dir.appendingPathComponent("a.npy").path
            try NpyWriter.write(path: path, shape: shape, values: values)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual((data.count - n * 4) % 64, 0, "header is padded to 64 bytes")
            XCTAssertEqual(data[data.count - n * 4 - 1], 0x0A, "header ends in a newline")
            let a = try NpyReader.read(path: path)
            XCTAssertEqual(a, NpyArray(shape: shape, values: values))
        }
        let text = String(decoding: try NpyWriter.encode(shape: [4], values: [1, 2, 3, 4]).prefix(64), as: UTF8.self)
        XCTAssertTrue(text.contains("'shape': (4,)"), text)
    }

    func testWriterRejectsCountMismatch() {
        let path = dir.appendingPathComponent("bad.npy").path
        assertWeightsError(["bad.npy", "needs 6 values but 5 were given"]) {
            try NpyWriter.write(path: path, shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
    }

    func testReaderConvertsF8AndF2() throws {
        func file(descr: String, data: [UInt8]) -> [UInt8] {
            let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }"
            var b: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(header.utf8)
            b += Array(repeating: 0x20, count: 128 - 1 - b.count) + [0x0A]
            return b + data
        }
        XCTAssertEqual(try NpyReader.decode(file(descr: "<f8", data: [0, 0, 0, 0, 0, 0, 0xF8, 0x3F])).values, [1.5])
        XCTAssertEqual(try NpyReader.decode(file(descr: "<f2", data: [0x00, 0x3E])).values, [1.5])
    }

    func testReaderRejectsMalformedFiles() throws {
        func npy(_ header: String, data: [UInt8] = [0, 0, 0, 0], length: Int? = nil) -> [UInt8] {
            let n = length ?? header.utf8.count
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + data
        }
        let good = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n"
        XCTAssertEqual(try NpyReader.decode(npy(good)).values, [0])
        let cases: [([UInt8], String)] = [
            (Array("NOTNPY0000".utf8), "magic"),
            (npy(good, length: 5000), "runs past the end"),
            (npy(good.replacingOccurrences(of: "<f4", with: ">f4")), "unsupported dtype '>f4'"),
            (npy(good.replacingOccurrences(of: "<f4", with: "<i8")), "unsupported dtype"),
            (npy(good.replacingOccurrences(of: "False", with: "True")), "Fortran"),
            (npy(good, data: [0, 0]), "needs 4 data bytes but the file has 2"),
            (npy(good, data: [0, 0, 0, 0, 0]), "needs 4 data bytes but the file has 5"),
            (npy(good.replacingOccurrences(of: "(1,)", with: "(-1,)")), "malformed header"),
            (npy(good.replacingOccurrences(of: "(1,)", with: "(4294967296, 4294967296)")), "overflows"),
            (npy("{'descr': '<f4', 'shape': (1,)}"), "fortran_order"),
            (npy("{'descr': '<f4', 'descr': '<f4'}"), "duplicate key"),
        ]
        for (bytes, fragment) in cases {
            assertWeightsError(["x.npy", fragment]) { _ = try NpyReader.decode(bytes, file: "/tmp/x.npy") }
        }
    }
}
