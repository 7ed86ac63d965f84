import Foundation
import PhiTensor
import XCTest
@testable import PhiWeights

/// GGUFWriter → GGUFFile for every tensor type and every metadata value type.
final class GGUFRoundTripTests: TempDirTestCase {
    func testGGMLTypeTableCoversEveryDType() {
        XCTAssertEqual(Set(GGMLType.all.map(\.id)).count, GGMLType.all.count)
        XCTAssertEqual(Set(GGMLType.all.map(\.name)).count, GGMLType.all.count)
        for d in DType.allCases {
            guard let t = GGMLType(id: d.ggmlType) else { return XCTFail("no GGML type for \(d)") }
            XCTAssertEqual(t.name, d.rawValue)
            XCTAssertEqual(t.blockElements, d.blockElements, "\(d)")
            XCTAssertEqual(t.blockBytes, d.blockBytes, "\(d)")
            XCTAssertEqual(t.dtype, d)
            XCTAssertEqual(GGMLType(d), t)
        }
        XCTAssertEqual(GGMLType(named: "Q5_1")?.description, "Q5_1 (7)")
        XCTAssertNil(GGMLType(id: 42))
        XCTAssertNil(GGMLType(id: -1))
        XCTAssertTrue(GGMLType(id: 31)?.isRemoved ?? false)
        XCTAssertNil(GGMLType(named: "Q5_1")?.dtype)
    }

    func testEveryTypeRoundTripsAsZeroCopyViews() throws {
        var w = GGUFWriter()
        var expected: [String: (GGMLType, [Int], [UInt8])] = [:]
        let types = GGMLType.supported + ["Q5_1", "Q2_K", "I32", "IQ4_XS", "F64"].compactMap { GGMLType(named: $0) }
        for (i, type) in types.enumerated() {
            let dims = [type.blockElements * 2, 3] // ne[0] = row length, 3 rows
            let bytes = patternBytes(type.byteCount(elements: dims[0] * dims[1]) ?? 0, seed: i)
            let name = "blk.\(i).\(type.name.lowercased()).weight"
            w.addTensor(name: name, type: type, dimensions: dims, bytes: bytes)
            expected[name] = (type, dims, bytes)
        }
        w.set("general.architecture", .string("test"))
        let url = try writeGGUF(w, name: "types.gguf")
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.architecture, "test")
        XCTAssertEqual(file.tensorInfos.map(\.name), w.tensors.map(\.name))
        XCTAssertEqual(file.names, expected.keys.sorted())
        XCTAssertEqual(file.dataOffset % 32, 0)
        for (name, (type, dims, bytes)) in expected {
            let info = try XCTUnwrap(file.entry(name))
            XCTAssertEqual(info.type, type)
            XCTAssertEqual(info.dimensions, dims)
            XCTAssertEqual(info.shape, [dims[1], dims[0]])
            XCTAssertEqual(info.byteCount, bytes.count)
            XCTAssertEqual(info.offset % 32, 0)
            let raw = try file.rawBytes(named: name)
            XCTAssertEqual(Array(raw), bytes, name)
            let base = try XCTUnwrap(raw.baseAddress)
            XCTAssertTrue(file.mappingContains(base, count: raw.count))
            XCTAssertEqual(Int(bitPattern: base) % 32, 0, "tensor data aligned in memory")
            if let dtype = type.dtype {
                let t = try file.tensor(named: name)
                XCTAssertEqual(t.dtype, dtype)
                XCTAssertEqual(t.shape, [3, type.blockElements * 2])
                XCTAssertEqual(t.data, UnsafeRawPointer(base))
                XCTAssertTrue(t.owner === file)
                XCTAssertEqual(t.byteCount, bytes.count)
                XCTAssertEqual(t.rowBytes, bytes.count / 3)
            } else {
                assertWeightsError(["types.gguf", "tensor '\(name)' has type \(type.name) (\(type.id))",
                                    "which PhiKit does not support"]) { _ = try file.tensor(named: name) }
            }
        }
        assertWeightsError(["tensor 'nope' is not in the weights"]) { _ = try file.tensor(named: "nope") }
        assertWeightsError(["tensor 'nope' is not in the weights"]) { _ = try file.rawBytes(named: "nope") }
    }

    func testFloatValuesAndShapesInPyTorchOrder() throws {
        var w = GGUFWriter()
        w.addTensor(name: "f32", dtype: .f32, shape: [2, 3], bytes: f32Bytes([0, 1, 2, 3, 4, 5]))
        let half = SafetensorsWriter.Item.f16(shape: [4], values: [1, -2, 0.5, 65504])
        w.addTensor(name: "f16", dtype: .f16, shape: [4], bytes: half.bytes)
        let bf = SafetensorsWriter.Item.bf16(shape: [1, 2], values: [3, -0.25])
        w.addTensor(name: "bf16", dtype: .bf16, shape: [1, 2], bytes: bf.bytes)
        let file = try GGUFFile(url: writeGGUF(w, name: "floats.gguf"))
        let f = try file.tensor(named: "f32")
        XCTAssertEqual(f.shape, [2, 3])
        XCTAssertEqual(file.entry("f32")?.dimensions, [3, 2])
        XCTAssertEqual(f.toFloatArray(), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try file.tensor(named: "f16").toFloatArray(), [1, -2, 0.5, 65504])
        XCTAssertEqual(try file.tensor(named: "bf16").toFloatArray(), [3, -0.25])
    }

    func testMetadataRoundTripsWithTypedAccessors() throws {
        var w = GGUFWriter()
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(255)), ("i8", .int8(-128)), ("u16", .uint16(65535)), ("i16", .int16(-32768)),
            ("u32", .uint32(.max)), ("i32", .int32(.min)), ("u64", .uint64(.max)), ("i64", .int64(.min)),
            ("f32", .float32(1.5)), ("f64", .float64(-2.25)), ("yes", .bool(true)), ("no", .bool(false)),
            ("s", .string("Ġhello ✓")), ("empty", .string("")),
            ("strings", .array(.string, [.string("a"), .string("b c")])),
            ("ints", .array(.int32, [.int32(1), .int32(-2)])),
            ("u64s", .array(.uint64, [.uint64(.max)])),
            ("floats", .array(.float32, [.float32(0.5), .float32(-1)])),
            ("none", .array(.float64, [])),
            ("nested", .array(.array, [.array(.uint8, [.uint8(1)]), .array(.string, [])])),
        ]
        for (k, v) in values { w.set(k, v) }
        w.set("u8", .uint8(254)) // replaces in place
        let file = try GGUFFile(url: writeGGUF(w, name: "meta.gguf"))
        XCTAssertEqual(file.metadataKeys, values.map(\.0))
        XCTAssertEqual(file.metadata["u8"], .uint8(254))
        for (k, v) in values.dropFirst() { XCTAssertEqual(file.metadata[k], v, k) }
        XCTAssertTrue(file.tensorInfos.isEmpty)

        XCTAssertEqual(try file.int("u8"), 254)
        XCTAssertEqual(try file.int("i64"), Int(Int64.min))
        XCTAssertEqual(try file.int("u32"), Int(UInt32.max))
        XCTAssertEqual(try file.float("f32"), 1.5)
        XCTAssertEqual(try file.double("f64"), -2.25)
        XCTAssertEqual(try file.float("i16"), -32768)
        XCTAssertTrue(try file.bool("yes"))
        XCTAssertEqual(try file.string("s"), "Ġhello ✓")
        XCTAssertEqual(try file.stringArray("strings"), ["a", "b c"])
        XCTAssertEqual(try file.intArray("ints"), [1, -2])
        XCTAssertEqual(try file.floatArray("floats"), [0.5, -1])
        XCTAssertEqual(try file.floatArray("ints"), [1, -2])
        XCTAssertEqual(try file.floatArray("none"), [])
        XCTAssertEqual(try file.int("missing", default: 7), 7)
        XCTAssertEqual(try file.string("missing", default: "x"), "x")
        XCTAssertEqual(try file.float("missing", default: 2), 2)
        XCTAssertFalse(try file.bool("missing", default: false))

        assertWeightsError(["meta.gguf", "metadata key 'missing' is missing"]) { _ = try file.int("missing") }
        assertWeightsError(["metadata 's' is string", "not an integer"]) { _ = try file.int("s") }
        assertWeightsError(["metadata 's' is string", "not an integer"]) { _ = try file.int("s", default: 1) }
        assertWeightsError(["metadata 'u64' value 18446744073709551615 does not fit in Int"]) { _ = try file.int("u64") }
        assertWeightsError(["metadata 'u8' is uint8", "not a string"]) { _ = try file.string("u8") }
        assertWeightsError(["not a bool"]) { _ = try file.bool("u8") }
        assertWeightsError(["not a number"]) { _ = try file.float("s") }
        assertWeightsError(["metadata 'ints' is array of int32", "not an array of strings"]) { _ = try file.stringArray("ints") }
        assertWeightsError(["not an array of integers"]) { _ = try file.intArray("floats") }
        assertWeightsError(["not an array of numbers"]) { _ = try file.floatArray("strings") }
        assertWeightsError(["element 0", "does not fit in Int"]) { _ = try file.intArray("u64s") }
    }

    func testAlignmentsAreRecordedAndHonoured() throws {
        for alignment in [1, 8, 64, 4096] {
            var w = GGUFWriter(alignment: alignment)
            w.addTensor(name: "a", dtype: .f32, shape: [3], bytes: f32Bytes([1, 2, 3]))
            w.addTensor(name: "b", dtype: .q8_0, shape: [1, 32], bytes: patternBytes(34, seed: 1))
            w.addTensor(name: "c", dtype: .f16, shape: [1], bytes: [0, 0x3C])
            let bytes = try w.encode()
            XCTAssertEqual(bytes.count % alignment, 0)
            let file = try GGUFFile(url: writeBytes(bytes, name: "align-\(alignment).gguf"))
            XCTAssertEqual(file.alignment, alignment)
            XCTAssertEqual(file.metadata["general.alignment"], alignment == 32 ? nil : .uint32(UInt32(alignment)))
            XCTAssertEqual(file.dataOffset % alignment, 0)
            for info in file.tensorInfos { XCTAssertEqual(info.offset % alignment, 0) }
            XCTAssertEqual(Array(try file.rawBytes(named: "b")), patternBytes(34, seed: 1))
            XCTAssertEqual(try file.tensor(named: "c").toFloatArray(), [1])
        }
    }

    func testStreamingWriterMatchesEncodeAndVersion2Reads() throws {
        var w = GGUFWriter(version: 2)
        w.set("k", .string("v"))
        w.addTensor(GGUFWriter.TensorLayout(name: "x", dtype: .q4_K, shape: [2, 256]))
        w.addTensor(GGUFWriter.TensorLayout(name: "y", dtype: .f32, shape: [1]))
        let url = dir.appendingPathComponent("stream.gguf")
        var asked: [String] = []
        try w.write(to: url) { layout in
            asked.append(layout.name)
            return layout.name == "x" ? patternBytes(288, seed: 5) : f32Bytes([9])
        }
        XCTAssertEqual(asked, ["x", "y"])
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(Array(try file.rawBytes(named: "x")), patternBytes(288, seed: 5))
        XCTAssertEqual(try file.tensor(named: "x").shape, [2, 256])
        XCTAssertEqual(try file.tensor(named: "y").toFloatArray(), [9])
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path + ".tmp-\(getpid())"))
    }

    func testWriterRejectsInconsistentInput() throws {
        func assertRejected(_ fragment: String, line: UInt = #line, _ build: (inout GGUFWriter) -> Void) {
            var w = GGUFWriter()
            build(&w)
            assertWeightsError([fragment], line: line) { _ = try w.encode() }
        }
        assertRejected("added twice") {
            $0.addTensor(name: "a", dtype: .f32, shape: [1], bytes: f32Bytes([1]))
            $0.addTensor(name: "a", dtype: .f32, shape: [1], bytes: f32Bytes([1]))
        }
        assertRejected("has 8 bytes but") { $0.addTensor(name: "a", dtype: .f32, shape: [1], bytes: f32Bytes([1, 2])) }
        assertRejected("not a multiple of the block size 32") {
            $0.addTensor(name: "a", dtype: .q8_0, shape: [1, 16], bytes: [])
        }
        assertRejected("must be 1 to 4 values") { $0.addTensor(name: "a", dtype: .f32, shape: [1, 0], bytes: []) }
        assertRejected("must be 1 to 4 values") { $0.addTensor(name: "a", dtype: .f32, shape: [1, 1, 1, 1, 1], bytes: f32Bytes([1])) }
        assertRejected("no longer defines") {
            $0.addTensor(name: "a", type: GGMLType(id: 4) ?? GGMLType(.f32), dimensions: [32], bytes: [])
        }
        assertRejected("element 1 is string") { $0.set("k", .array(.int32, [.int32(1), .string("x")])) }
        assertRejected("nests arrays more than") {
            $0.set("k", .array(.array, [.array(.array, [.array(.array, [.array(.uint8, [])])])]))
        }
        assertRejected("disagrees with the writer's alignment") { $0.set("general.alignment", .uint32(64)) }
        assertRejected("metadata key '' is empty") { $0.set("", .bool(true)) }
        var bad = GGUFWriter(alignment: 48)
        assertWeightsError(["alignment 48 is not a power of two"]) { _ = try bad.encode() }
        bad = GGUFWriter(version: 1)
        assertWeightsError(["GGUF version 1 cannot be written"]) { _ = try bad.encode() }
    }
}
