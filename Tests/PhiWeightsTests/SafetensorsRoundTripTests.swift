import Foundation
import PhiTensor
import XCTest
@testable import PhiWeights
import PhiTestSupport

final class SafetensorsRoundTripTests: TempDirTestCase {
    func testF32RoundTripIsZeroCopy() throws {
        let values: [Float] = [1.5, -2, 0, .pi, -0.0, 1e-30, 3.4e38, -7]
        let url = try writeModel(["w": .f32(shape: [2, 4], values: values)], metadata: ["format": "pt"], name: "f32.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(file.names, ["w"])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        let t = try file.tensor(named: "w")
        XCTAssertEqual(t.dtype, .f32)
        XCTAssertEqual(t.shape, [2, 4])
        XCTAssertEqual(t.toFloatArray().map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertTrue(file.mappingContains(t.data, count: t.byteCount), "tensor data must point into the mapping")
        XCTAssertTrue(t.owner === file)
        XCTAssertTrue(file.isAligned("w"))
        XCTAssertEqual(file.headerByteCount % 8, 0)
    }

    func testBF16RoundTrip() throws {
        // Values exactly representable in bf16 survive unchanged.
        let values: [Float] = [1, -2, 0.5, 3.0, -0.125, 256, 1.0 / 1024, 0]
        let url = try writeModel(["b": .bf16(shape: [8], values: values)], name: "bf16.safetensors")
        let file = try SafetensorsFile(url: url)
        let t = try file.tensor(named: "b")
        XCTAssertEqual(t.dtype, .bf16)
        XCTAssertEqual(t.shape, [8])
        XCTAssertEqual(t.toFloatArray(), values)
        XCTAssertTrue(file.mappingContains(t.data, count: t.byteCount))
    }

    func testF16RoundTrip() throws {
        let minNormal = Float(sign: .minus, exponent: -14, significand: 1)
        let minSubnormal = Float(sign: .plus, exponent: -24, significand: 1)
        let values: [Float] = [1, -2, 0.5, 65504, minNormal, minSubnormal, 0, 1.5]
        let url = try writeModel(["h": .f16(shape: [2, 2, 2], values: values)], name: "f16.safetensors")
        let file = try SafetensorsFile(url: url)
        let t = try file.tensor(named: "h")
        XCTAssertEqual(t.dtype, .f16)
        XCTAssertEqual(t.shape, [2, 2, 2])
        XCTAssertEqual(t.toFloatArray(), values)
        XCTAssertTrue(file.mappingContains(t.data, count: t.byteCount))
    }

    func testMixedFileLayoutIsDeterministicAndAligned() throws {
        let tensors: [String: SafetensorsWriter.Item] = [
            "z.bf16": .bf16(shape: [3], values: [1, 2, 3]),      // odd element count
            "a.f32": .f32(shape: [2], values: [4, 5]),
            "m.f16": .f16(shape: [1], values: [6]),
            "q.i64": SafetensorsWriter.Item(dtype: "I64", shape: [1], bytes: [7, 0, 0, 0, 0, 0, 0, 0]),
            "empty": .f32(shape: [0, 5], values: []),
        ]
        let a = try SafetensorsWriter.encode(tensors, metadata: ["k": "v", "a": "b"])
        let b = try SafetensorsWriter.encode(tensors, metadata: ["a": "b", "k": "v"])
        XCTAssertEqual(a, b)
        let url = try writeBytes(a, name: "mixed.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(file.names, ["a.f32", "empty", "m.f16", "q.i64", "z.bf16"])
        for name in file.names { XCTAssertTrue(file.isAligned(name), name) }
        XCTAssertEqual(try file.tensor(named: "z.bf16").toFloatArray(), [1, 2, 3])
        XCTAssertEqual(try file.tensor(named: "a.f32").toFloatArray(), [4, 5])
        XCTAssertEqual(try file.tensor(named: "m.f16").toFloatArray(), [6])
        XCTAssertEqual(try file.tensor(named: "empty").elementCount, 0)
        XCTAssertEqual(Array(try file.rawBytes(named: "q.i64")), [7, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(file.entry("q.i64")?.dtype, "I64")
        // Header keys are sorted, metadata first.
        let header = String(decoding: a[8..<(8 + file.headerByteCount)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"a\":\"b\",\"k\":\"v\"},\"a.f32\":"), header)
    }

    func testHeaderPaddedWithSpacesAndTrailingWhitespaceAccepted() throws {
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}       "
        let url = try writeRaw(header: header, data: f32Bytes([1, 2]), name: "padded.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(try file.tensor(named: "a").toFloatArray(), [1, 2])
    }

    func testUnalignedTensorIsReportedAndStillReadable() throws {
        // One-byte U8 tensor first puts the F32 tensor at an odd address.
        let header = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1,5]}}"
        var padded = Array(header.utf8)
        while (padded.count + 8) % 8 != 0 { padded.append(0x20) }
        let url = try writeRaw(header: padded, data: [9] + f32Bytes([2.5]), name: "unaligned.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertFalse(file.isAligned("b"))
        let raw = try file.rawBytes(named: "b")
        XCTAssertEqual(Float(bitPattern: raw.loadUnaligned(as: UInt32.self)), 2.5)
    }

    func testEmptyFileWithNoTensorsIsValid() throws {
        let url = try writeRaw(header: "{}      ", name: "empty.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(file.names, [])
        assertWeightsError(["'x'"]) { _ = try file.tensor(named: "x") }
    }

    func testF32ToF16MatchesHardwareConversion() {
        #if !(os(macOS) && arch(x86_64))
        var rng = SplitMix64(seed: 7)
        var samples: [Float] = [0, -0, 1, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, .infinity, -.infinity, 1e10]
        for _ in 0..<5000 {
            samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())))
        }
        for f in samples where !f.isNaN {
            XCTAssertEqual(SafetensorsWriter.f32ToF16(f), Float16(f).bitPattern, "\(f)")
        }
        XCTAssertTrue(Float(Float16(bitPattern: SafetensorsWriter.f32ToF16(.nan))).isNaN)
        #endif
    }

    func testWriterRejectsInconsistentInput() {
        let path = dir.appendingPathComponent("w.safetensors")
        assertWeightsError(["w.safetensors", "'x'"]) {
            try SafetensorsWriter.write(["x": .f32(shape: [3], values: [1, 2])], to: path)
        }
        assertWeightsError(["__metadata__"]) {
            _ = try SafetensorsWriter.encode(["__metadata__": .f32(shape: [1], values: [1])])
        }
        assertWeightsError(["unknown dtype"]) {
            _ = try SafetensorsWriter.encode(["x": SafetensorsWriter.Item(dtype: "Q4", shape: [1], bytes: [0])])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path), "a failed write leaves no file behind")
    }

    func testStreamingWriterCallsProducerInLayoutOrder() throws {
        let url = dir.appendingPathComponent("stream.safetensors")
        var calls: [String] = []
        try SafetensorsWriter.write(
            layouts: ["b": .init(dtype: "BF16", shape: [2]), "a": .init(dtype: "F32", shape: [1])], to: url
        ) { name in
            calls.append(name)
            return name == "a" ? f32Bytes([3]) : [0x80, 0x3F, 0x00, 0x40]
        }
        XCTAssertEqual(calls, ["a", "b"])
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(try file.tensor(named: "b").toFloatArray(), [1, 2])
        XCTAssertEqual(try file.tensor(named: "a").toFloatArray(), [3])
    }
}
