import Foundation
import XCTest
@testable import PhiWeights

/// One test per way a safetensors file can be broken. Each checks the error names the file.
final class SafetensorsCorruptionTests: TempDirTestCase {
    private func entry(_ name: String, _ dtype: String = "F32", shape: String = "[2]", offsets: String = "[0,8]") -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    private func header(_ entries: String...) -> String { "{" + entries.joined(separator: ",") + "}" }

    private let eight = f32Bytes([1, 2])

    func testFileShorterThanEightBytes() throws {
        assertInvalid(try writeBytes([1, 2, 3], name: "tiny.safetensors"), "too short")
        assertInvalid(try writeBytes([], name: "zero.safetensors"), "too short")
    }

    func testHeaderLengthBeyondFile() throws {
        let url = try writeRaw(header: header(entry("a")), data: eight, headerLength: 4096, name: "beyond.safetensors")
        assertInvalid(url, "header length 4096 runs past the end of the file")
    }

    func testHeaderTooLarge() throws {
        assertInvalid(try writeRaw(header: "{}", headerLength: 200_000_000, name: "huge.safetensors"), "exceeds the limit")
        assertInvalid(try writeRaw(header: "{}", headerLength: .max, name: "max.safetensors"), "exceeds the limit")
    }

    func testEmptyHeader() throws {
        assertInvalid(try writeRaw(header: "", data: eight, name: "nohdr.safetensors"), "header is empty")
    }

    func testNonUTF8Header() throws {
        var bytes = Array(header(entry("a")).utf8)
        bytes[2] = 0xFF // inside the key "a"
        assertInvalid(try writeRaw(header: bytes, data: eight, name: "utf8.safetensors"), "not valid UTF-8")
    }

    func testHeaderNotStartingWithBrace() throws {
        assertInvalid(try writeRaw(header: " " + header(entry("a")), data: eight, name: "brace.safetensors"), "does not start with '{'")
        assertInvalid(try writeRaw(header: "[1]", name: "array.safetensors"), "does not start with '{'")
    }

    func testBadJSON() throws {
        let url = try writeRaw(header: "{\"a\":{\"dtype\":\"F32\",}}", data: eight, name: "json.safetensors")
        assertInvalid(url, "not valid JSON")
    }

    func testTrailingGarbage() throws {
        let url = try writeRaw(header: header(entry("a")) + "  x", data: eight, name: "garbage.safetensors")
        assertInvalid(url, "not valid JSON", "trailing")
    }

    func testMissingDtypeShapeOrOffsets() throws {
        let noDtype = "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}"
        let noShape = "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}"
        let noOffsets = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}"
        assertInvalid(try writeRaw(header: noDtype, data: eight, name: "nodtype.safetensors"), "'a' has no dtype")
        assertInvalid(try writeRaw(header: noShape, data: eight, name: "noshape.safetensors"), "'a' has no shape")
        assertInvalid(try writeRaw(header: noOffsets, data: eight, name: "nooffsets.safetensors"), "'a' has no data_offsets")
    }

    func testWrongFieldTypesAndUnknownFields() throws {
        assertInvalid(try writeRaw(header: header(entry("a", shape: "2")), data: eight, name: "t1.safetensors"), "shape is a number")
        assertInvalid(try writeRaw(header: "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", data: eight, name: "t2.safetensors"), "dtype is a number")
        assertInvalid(try writeRaw(header: header(entry("a", offsets: "[0]")), data: eight, name: "t3.safetensors"), "not a pair")
        assertInvalid(try writeRaw(header: "{\"a\":[1]}", data: eight, name: "t4.safetensors"), "'a' is described by an array")
        let extra = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}"
        assertInvalid(try writeRaw(header: extra, data: eight, name: "t5.safetensors"), "unknown field 'x'")
        assertInvalid(try writeRaw(header: header(entry("a", "Q4_K")), data: eight, name: "t6.safetensors"), "unknown dtype \"Q4_K\"")
    }

    func testMetadataMustBeStringMap() throws {
        let bad = "{\"__metadata__\":{\"n\":1}," + entry("a") + "}"
        assertInvalid(try writeRaw(header: bad, data: eight, name: "meta.safetensors"), "__metadata__", "'n'", "not a string")
        let notObject = "{\"__metadata__\":\"x\"," + entry("a") + "}"
        assertInvalid(try writeRaw(header: notObject, data: eight, name: "meta2.safetensors"), "__metadata__ is a string")
    }

    func testNegativeOrNonIntegerShape() throws {
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[-2]")), data: eight, name: "neg.safetensors"),
                      "shape entry 0 is -2, not a non-negative integer")
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[2.0]")), data: eight, name: "frac.safetensors"),
                      "shape entry 0 is 2.0")
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[1,\"2\"]")), data: eight, name: "str.safetensors"),
                      "shape entry 1 is \"2\"")
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[1e2]")), data: eight, name: "exp.safetensors"),
                      "shape entry 0 is 1e2")
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[99999999999999999999999]")), data: eight, name: "big.safetensors"),
                      "not a non-negative integer")
    }

    func testShapeProductOverflow() throws {
        let twoTo40 = 1 << 40
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[\(twoTo40),\(twoTo40)]")), data: eight, name: "ovf.safetensors"),
                      "more elements than can be addressed")
        // An overflowing prefix is rejected even when a later zero makes the product 0.
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[\(twoTo40),\(twoTo40),0]", offsets: "[0,0]")), data: [], name: "ovf0.safetensors"),
                      "more elements")
        // Elements fit, bytes do not: 2^62 F32 elements.
        assertInvalid(try writeRaw(header: header(entry("a", shape: "[\(1 << 62)]")), data: eight, name: "ovfbytes.safetensors"),
                      "addressable")
    }

    func testReversedOffsets() throws {
        let url = try writeRaw(header: header(entry("a", shape: "[0]", offsets: "[8,0]")), data: eight, name: "reversed.safetensors")
        assertInvalid(url, "tensor 'a' data_offsets [8, 0] are reversed")
    }

    func testNegativeOffsets() throws {
        let url = try writeRaw(header: header(entry("a", offsets: "[-8,0]")), data: eight, name: "negoff.safetensors")
        assertInvalid(url, "not non-negative integers")
    }

    func testOffsetsBeyondData() throws {
        let url = try writeRaw(header: header(entry("a", shape: "[4]", offsets: "[0,16]")), data: eight, name: "past.safetensors")
        assertInvalid(url, "[0, 16] run past the end of the 8-byte data section")
    }

    func testOverlappingTensors() throws {
        let h = header(entry("a", offsets: "[0,8]"), entry("b", shape: "[1]", offsets: "[4,8]"))
        assertInvalid(try writeRaw(header: h, data: eight, name: "overlap.safetensors"), "overlap", "'a'", "'b'")
        // Two tensors claiming the same bytes.
        let same = header(entry("a"), entry("b"))
        assertInvalid(try writeRaw(header: same, data: eight, name: "same.safetensors"), "overlap")
    }

    func testGapBetweenTensors() throws {
        let h = header(entry("a", shape: "[1]", offsets: "[0,4]"), entry("b", shape: "[1]", offsets: "[8,12]"))
        assertInvalid(try writeRaw(header: h, data: f32Bytes([1, 2, 3]), name: "gap.safetensors"), "[4, 8)", "'b'", "gap")
        // A gap at the very start.
        let h2 = header(entry("a", shape: "[1]", offsets: "[4,8]"))
        assertInvalid(try writeRaw(header: h2, data: eight, name: "gap0.safetensors"), "[0, 4)", "gap")
    }

    func testIncompleteCoverage() throws {
        let url = try writeRaw(header: header(entry("a")), data: f32Bytes([1, 2, 3]), name: "incomplete.safetensors")
        assertInvalid(url, "tensors cover 8 of the 12 data bytes")
        let none = try writeRaw(header: "{}", data: [1], name: "nothing.safetensors")
        assertInvalid(none, "cover 0 of the 1")
    }

    func testByteLengthMismatch() throws {
        let url = try writeRaw(header: header(entry("a", shape: "[3]", offsets: "[0,8]")), data: eight, name: "length.safetensors")
        assertInvalid(url, "'a' is F32 [3] = 12 bytes but data_offsets [0, 8] span 8 bytes")
        let bf = try writeRaw(header: header(entry("a", "BF16", shape: "[2]", offsets: "[0,8]")), data: eight, name: "length2.safetensors")
        assertInvalid(bf, "BF16 [2] = 4 bytes")
    }

    func testSubByteDtypeMustFillWholeBytes() throws {
        let url = try writeRaw(header: header(entry("a", "F4", shape: "[3]", offsets: "[0,2]")), data: [0, 0], name: "f4.safetensors")
        assertInvalid(url, "whole")
        let ok = try writeRaw(header: header(entry("a", "F4", shape: "[4]", offsets: "[0,2]")), data: [0, 0], name: "f4ok.safetensors")
        XCTAssertEqual(try SafetensorsFile(url: ok).entry("a")?.byteCount, 2)
    }

    func testDuplicateKey() throws {
        let h = header(entry("a", shape: "[1]", offsets: "[0,4]"), entry("a", shape: "[1]", offsets: "[4,8]"))
        assertInvalid(try writeRaw(header: h, data: eight, name: "dup.safetensors"), "duplicate key \"a\"")
        let meta = "{\"__metadata__\":{},\"__metadata__\":{}}"
        assertInvalid(try writeRaw(header: meta, name: "dupmeta.safetensors"), "duplicate key")
    }

    func testUnsupportedDtypeIsListedButNotLoadable() throws {
        let h = header(entry("ids", "I64", shape: "[1]", offsets: "[0,8]"))
        let url = try writeRaw(header: h, data: [1, 0, 0, 0, 0, 0, 0, 0], name: "int64.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(file.names, ["ids"])
        XCTAssertEqual(file.entry("ids")?.dtype, "I64")
        XCTAssertNil(file.entry("ids")?.supportedDType)
        assertWeightsError(["int64.safetensors", "unsupported dtype I64 for tensor 'ids'"]) {
            _ = try file.tensor(named: "ids")
        }
        // Through the store too.
        let store = try WeightStore(files: [url])
        XCTAssertEqual(store.info("ids")?.dtype, "I64")
        assertWeightsError(["int64.safetensors", "unsupported dtype I64"]) { _ = try store.tensor("ids") }
    }

    func testMissingFile() {
        let url = dir.appendingPathComponent("absent.safetensors")
        assertWeightsError(["absent.safetensors", "cannot open"]) { _ = try SafetensorsFile(url: url) }
    }

    func testDirectoryIsNotAFile() throws {
        let sub = dir.appendingPathComponent("sub.safetensors")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        assertWeightsError(["sub.safetensors", "not a regular file"]) { _ = try SafetensorsFile(url: sub) }
    }
}
