import Foundation
import PhiTensor
import XCTest
@testable import PhiWeights

/// One test per way a GGUF file can be broken. Each checks that the error names the file and the problem.
final class GGUFCorruptionTests: TempDirTestCase {
    /// Two metadata entries and two F32 tensors: "a" [4] at 0 and "b" [2, 2] at 32; 64 data bytes.
    private func valid() -> RawGGUF {
        var g = RawGGUF()
        g.kv("general.architecture", .string("llama"))
        g.kv("tokens", .array(.string, [.string("x"), .string("yz")]))
        g.tensor("a", dims: [4], offset: 0)
        g.tensor("b", dims: [2, 2], offset: 32)
        g.data = f32Bytes([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 16) + f32Bytes([5, 6, 7, 8]) + [UInt8](repeating: 0, count: 16)
        return g
    }

    /// `valid()` with its tensor infos replaced.
    private func withTensors(_ body: (inout RawGGUF) -> Void) -> RawGGUF {
        var g = valid()
        g.infos = []
        body(&g)
        return g
    }

    private func parse(_ bytes: [UInt8]) -> Result<GGUFHeader, WeightsError> {
        bytes.withUnsafeBytes { raw in
            Result { () throws(WeightsError) -> GGUFHeader in try GGUFHeader.parse(raw, path: "mem.gguf") }
        }
    }

    func testValidBaselineLoads() throws {
        let file = try GGUFFile(url: writeBytes(valid().bytes(), name: "ok.gguf"))
        XCTAssertEqual(file.names, ["a", "b"])
        XCTAssertEqual(try file.tensor(named: "b").toFloatArray(), [5, 6, 7, 8])
        XCTAssertEqual(try file.tensor(named: "b").shape, [2, 2])
        XCTAssertEqual(try file.stringArray("tokens"), ["x", "yz"])
    }

    func testTruncatedAtEveryByte() throws {
        let g = valid()
        let bytes = g.bytes()
        let lastTensorEnd = g.dataOffset + 48
        for cut in 0..<lastTensorEnd {
            switch parse(Array(bytes.prefix(cut))) {
            case .success: XCTFail("a file cut at byte \(cut) of \(bytes.count) was accepted")
            case .failure(let e):
                XCTAssertTrue(e.description.hasPrefix("mem.gguf: "), e.description)
                XCTAssertTrue(e.description.contains("truncated"), "cut \(cut): \(e.description)")
            }
        }
        // Only the last tensor's alignment padding may be missing.
        for cut in lastTensorEnd...bytes.count {
            if case .failure(let e) = parse(Array(bytes.prefix(cut))) { XCTFail("cut \(cut): \(e)") }
        }
    }

    func testTruncatedInEachRegionNamesTheRegion() throws {
        var g = valid()
        g.kvs.append(RawGGUF.string("padding.key") + RawGGUF.le(UInt32(8)) + RawGGUF.string(String(repeating: "p", count: 200)))
        let bytes = g.bytes()
        let kvStart = 24, infosStart = 24 + g.kvs.reduce(0) { $0 + $1.count }
        assertInvalidGGUF(Array(bytes.prefix(3)), name: "t-magic.gguf", "too short for the GGUF magic", "truncated")
        assertInvalidGGUF(Array(bytes.prefix(10)), name: "t-header.gguf", "the header (tensor count)", "truncated")
        let paddingKV = kvStart + g.kvs[0].count + g.kvs[1].count
        assertInvalidGGUF(Array(bytes.prefix(paddingKV + 100)), name: "t-kv.gguf", "metadata 'padding.key' is a string of 200 bytes that runs past the end", "truncated")
        assertInvalidGGUF(Array(bytes.prefix(kvStart + 30)), name: "t-kv0.gguf", "3 metadata entries and 2 tensors, which cannot fit", "truncated")
        assertInvalidGGUF(Array(bytes.prefix(infosStart + 5)), name: "t-info.gguf", "tensor info 0 (name)", "truncated")
        assertInvalidGGUF(Array(bytes.prefix(infosStart + 20)), name: "t-info2.gguf", "tensor 'a' (dimension 0)", "truncated")
        assertInvalidGGUF(Array(bytes.prefix(g.dataOffset - 1)), name: "t-pad.gguf", "file ends before the data section", "truncated")
        assertInvalidGGUF(Array(bytes.prefix(g.dataOffset + 40)), name: "t-data.gguf", "tensor 'b' bytes [32, 48) run past the end of the 40-byte data section")
    }

    func testBadMagic() {
        var g = valid()
        g.magic = Array("GGML".utf8)
        assertInvalidGGUF(g.bytes(), name: "magic.gguf", "not a GGUF file: the magic is 'GGML'")
        g.magic = [0, 1, 2, 0xFF]
        assertInvalidGGUF(g.bytes(), name: "magic2.gguf", "the magic is '????'")
    }

    func testUnsupportedVersions() {
        for (version, fragment) in [(UInt32(1), "GGUF version 1 is not supported"), (4, "GGUF version 4 is not supported"),
                                    (0, "GGUF version 0 is not supported"), (3 << 24, "big-endian"), (2 << 16, "big-endian")] {
            var g = valid()
            g.version = version
            assertInvalidGGUF(g.bytes(), name: "v\(version).gguf", fragment)
        }
    }

    func testHugeCounts() {
        var g = valid()
        g.tensorCount = 1 << 21
        assertInvalidGGUF(g.bytes(), name: "tensors.gguf", "declares 2097152 tensors, more than the limit of 1048576")
        g = valid()
        g.kvCount = .max
        assertInvalidGGUF(g.bytes(), name: "kvs.gguf", "declares 18446744073709551615 metadata entries, more than the limit")
        g = valid()
        g.tensorCount = 1000
        assertInvalidGGUF(g.bytes(), name: "fit.gguf", "2 metadata entries and 1000 tensors, which cannot fit")
        g = valid()
        g.kvCount = 500_000
        assertInvalidGGUF(g.bytes(), name: "fit2.gguf", "500000 metadata entries", "cannot fit")
    }

    func testHugeStringLengths() {
        var g = valid()
        g.kvs = [RawGGUF.le(UInt64.max) + Array("key".utf8)]
        assertInvalidGGUF(g.bytes(), name: "keylen.gguf", "metadata entry 0 (key) is a string of 18446744073709551615 bytes, more than the limit of 65536")
        g = valid()
        g.kv("s", type: 8, payload: RawGGUF.le(UInt64(1) << 40))
        assertInvalidGGUF(g.bytes(), name: "vallen.gguf", "metadata 's' is a string of 1099511627776 bytes, more than the limit of 67108864")
        g = valid()
        g.infos = [RawGGUF.le(UInt64(1) << 20)]
        assertInvalidGGUF(g.bytes(), name: "namelen.gguf", "tensor info 0 (name) is a string of 1048576 bytes, more than the limit")
    }

    func testStringPastEndOfFile() {
        var g = RawGGUF()
        g.kv("s", type: 8, payload: RawGGUF.le(UInt64(100)) + Array("short".utf8))
        assertInvalidGGUF(g.bytes(), name: "eof.gguf", "metadata 's' is a string of 100 bytes that runs past the end of the file")
    }

    func testInvalidUTF8() {
        var g = valid()
        g.kv("s", type: 8, payload: RawGGUF.le(UInt64(3)) + [0x61, 0xC3, 0x28])
        assertInvalidGGUF(g.bytes(), name: "utf8.gguf", "metadata 's' is not valid UTF-8 (byte 1 of the string)")
        g = withTensors { $0.infos = [RawGGUF.le(UInt64(1)) + [0xFF] + RawGGUF.le(UInt32(1)) + RawGGUF.le(UInt64(4)) + RawGGUF.le(UInt32(0)) + RawGGUF.le(UInt64(0))] }
        assertInvalidGGUF(g.bytes(), name: "utf8name.gguf", "tensor info 0 (name) is not valid UTF-8")
    }

    func testBadValueTypes() {
        var g = valid()
        g.kv("k", type: 13, payload: [0, 0, 0, 0])
        assertInvalidGGUF(g.bytes(), name: "type.gguf", "metadata 'k' has unknown value type 13")
        g = valid()
        g.kv("k", type: 9, payload: RawGGUF.le(UInt32(99)) + RawGGUF.le(UInt64(1)) + [0, 0, 0, 0])
        assertInvalidGGUF(g.bytes(), name: "elem.gguf", "metadata 'k' is an array of unknown value type 99")
        g = valid()
        g.kv("flag", type: 7, payload: [2])
        assertInvalidGGUF(g.bytes(), name: "bool.gguf", "metadata 'flag' holds bool byte 2, not 0 or 1")
    }

    func testNestedArrayBomb() {
        // 10 000 levels of one-element arrays: rejected at the depth limit, without recursing further.
        var payload: [UInt8] = []
        for _ in 0..<10_000 { payload += RawGGUF.le(UInt32(9)) + RawGGUF.le(UInt64(1)) }
        payload += RawGGUF.le(UInt32(0)) + RawGGUF.le(UInt64(0))
        var g = valid()
        g.kv("bomb", type: 9, payload: payload)
        assertInvalidGGUF(g.bytes(), name: "deep.gguf", "metadata 'bomb' nests arrays more than 3 levels deep")

        // Many nested arrays, each claiming 2^24 elements that are not there.
        g = valid()
        g.kv("wide", type: 9, payload: RawGGUF.le(UInt32(9)) + RawGGUF.le(UInt64(1 << 20)))
        assertInvalidGGUF(g.bytes(), name: "wide.gguf", "array of 1048576 × array, which needs at least 12582912 bytes")
        g = valid()
        g.kv("long", type: 9, payload: RawGGUF.le(UInt32(0)) + RawGGUF.le(UInt64(1 << 25)))
        assertInvalidGGUF(g.bytes(), name: "long.gguf", "array of 33554432 elements, more than the limit of 16777216")
        g = valid()
        g.kv("u64", type: 9, payload: RawGGUF.le(UInt32(10)) + RawGGUF.le(UInt64(1000)))
        assertInvalidGGUF(g.bytes(), name: "short.gguf", "array of 1000 × uint64, which needs at least 8000 bytes")
    }

    func testDuplicateKey() {
        var g = valid()
        g.kv("general.architecture", .string("phi3"))
        assertInvalidGGUF(g.bytes(), name: "dupkey.gguf", "metadata key 'general.architecture' appears more than once (again as entry 2)")
        g = valid()
        g.kv("", .bool(true))
        assertInvalidGGUF(g.bytes(), name: "emptykey.gguf", "metadata entry 2 has an empty key")
    }

    func testDuplicateTensorAndEmptyName() {
        var g = withTensors {
            $0.tensor("a", dims: [4], offset: 0)
            $0.tensor("a", dims: [4], offset: 32)
        }
        assertInvalidGGUF(g.bytes(), name: "duptensor.gguf", "tensor 'a' appears more than once (again as tensor info 1)")
        g = withTensors { $0.tensor("", dims: [4], offset: 0) }
        assertInvalidGGUF(g.bytes(), name: "emptyname.gguf", "tensor info 0 has an empty name")
    }

    func testBadDimensions() {
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [], offset: 0) }.bytes(), name: "d0.gguf",
                          "tensor 'a' has 0 dimensions; GGUF allows 1 to 4")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [1, 1, 1, 1, 1], offset: 0) }.bytes(), name: "d5.gguf",
                          "tensor 'a' has 5 dimensions")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [1], offset: 0, nDims: .max) }.bytes(), name: "dmax.gguf",
                          "tensor 'a' has 4294967295 dimensions")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [4, 0], offset: 0) }.bytes(), name: "zero.gguf",
                          "tensor 'a' dimension 1 is 0")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [.max], offset: 0) }.bytes(), name: "neg.gguf",
                          "tensor 'a' dimension 0 is 18446744073709551615, which is not a valid element count")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [1 << 32, 1 << 32], offset: 0) }.bytes(), name: "overflow.gguf",
                          "tensor 'a' dimensions [4294967296, 4294967296] have more elements than can be addressed")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [1 << 62], offset: 0) }.bytes(), name: "bytes.gguf",
                          "byte size that cannot be addressed")
    }

    func testRowLengthNotAMultipleOfTheBlockSize() {
        let g = withTensors { $0.tensor("q", dims: [128, 2], type: 12, offset: 0) }
        assertInvalidGGUF(g.bytes(), name: "block.gguf",
                          "tensor 'q' of type Q4_K (12) has 128 elements per row (ne[0]), not a multiple of the block size 256")
    }

    func testUnknownAndRemovedTensorTypes() {
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [4], type: 99, offset: 0) }.bytes(), name: "t99.gguf",
                          "tensor 'a' has unknown GGML type 99")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [32], type: 31, offset: 0) }.bytes(), name: "t31.gguf",
                          "tensor 'a' has type Q4_0_4_4 (31), which GGML no longer defines")
    }

    func testMisalignedOffset() {
        let g = withTensors {
            $0.tensor("a", dims: [4], offset: 0)
            $0.tensor("b", dims: [4], offset: 16)
        }
        assertInvalidGGUF(g.bytes(), name: "misaligned.gguf", "tensor 'b' offset 16 is not a multiple of the alignment 32")
    }

    func testOffsetPastEndOfFile() {
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [4], offset: 1 << 40) }.bytes(), name: "far.gguf",
                          "tensor 'a' bytes [1099511627776, 1099511627792) run past the end of the 64-byte data section")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [4], offset: .max) }.bytes(), name: "max.gguf",
                          "tensor 'a' offset 18446744073709551615 is past the end of the file")
        assertInvalidGGUF(withTensors { $0.tensor("a", dims: [16], offset: UInt64(Int.max) - 31) }.bytes(), name: "wrap.gguf",
                          "tensor 'a' bytes", "overflow")
    }

    func testOverlappingTensors() {
        let g = withTensors {
            $0.tensor("a", dims: [4], offset: 0)
            $0.tensor("b", dims: [16], offset: 32)
            $0.tensor("c", dims: [4], offset: 64)
        }
        var h = g
        h.data += [UInt8](repeating: 0, count: 32)
        assertInvalidGGUF(h.bytes(), name: "overlap.gguf", "tensor 'c' bytes [64, 80) overlap tensor 'b' [32, 96)")
        let same = withTensors {
            $0.tensor("a", dims: [4], offset: 0)
            $0.tensor("b", dims: [4], offset: 0)
        }
        assertInvalidGGUF(same.bytes(), name: "same.gguf", "overlap tensor 'a' [0, 16)")
    }

    func testGapsAndTrailingBytes() {
        var g = withTensors {
            $0.tensor("a", dims: [4], offset: 0)
            $0.tensor("b", dims: [4], offset: 64)
        }
        g.data += [UInt8](repeating: 0, count: 32)
        assertInvalidGGUF(g.bytes(), name: "gap.gguf", "data bytes [32, 64) before tensor 'b' belong to no tensor (gap)")
        g = withTensors { $0.tensor("a", dims: [4], offset: 32) }
        assertInvalidGGUF(g.bytes(), name: "lead.gguf", "data bytes [0, 32) before tensor 'a'")
        g = valid()
        g.data += [1]
        assertInvalidGGUF(g.bytes(), name: "trailing.gguf", "data bytes [64, 65) after the last tensor belong to no tensor")
        g = withTensors { _ in }
        g.data = [1, 2, 3]
        assertInvalidGGUF(g.bytes(), name: "notensors.gguf", "data bytes [0, 3) after the last tensor")
    }

    func testBadAlignmentValues() {
        for (value, fragment) in [(GGUFValue.uint32(0), "general.alignment 0 is not a power of two"),
                                  (.uint32(3), "general.alignment 3 is not a power of two"),
                                  (.uint64(1 << 40), "general.alignment 1099511627776 is not a power of two between 1 and 65536"),
                                  (.int32(-32), "general.alignment -32 is not a power of two"),
                                  (.string("32"), "general.alignment is string, not an integer")] {
            var g = valid()
            g.kv("general.alignment", value)
            assertInvalidGGUF(g.bytes(), name: "align.gguf", fragment)
        }
        // A valid but larger alignment: offsets written for 32 are now misaligned.
        var g = valid()
        g.kv("general.alignment", .uint32(256))
        assertInvalidGGUF(g.bytes(), name: "align256.gguf", "tensor 'b' offset 32 is not a multiple of the alignment 256")
    }

    func testUnsupportedTensorTypeIsListedButNotViewable() throws {
        var g = withTensors {
            $0.tensor("q5", dims: [32], type: 7, offset: 0) // Q5_1: 32 values in 24 bytes, not computed with
            $0.tensor("a", dims: [4], offset: 32)
        }
        g.data = patternBytes(24, seed: 0) + [UInt8](repeating: 0, count: 8) + f32Bytes([1, 2, 3, 4]) + [UInt8](repeating: 0, count: 16)
        let file = try GGUFFile(url: writeBytes(g.bytes(), name: "q5.gguf"))
        XCTAssertEqual(file.entry("q5")?.type.name, "Q5_1")
        XCTAssertNil(file.entry("q5")?.dtype)
        XCTAssertEqual(Array(try file.rawBytes(named: "q5")), patternBytes(24, seed: 0))
        assertWeightsError(["q5.gguf", "tensor 'q5' has type Q5_1 (7), which PhiKit does not support"]) {
            _ = try file.tensor(named: "q5")
        }
        XCTAssertEqual(try file.tensor(named: "a").toFloatArray(), [1, 2, 3, 4])
    }

    func testMissingFileAndDirectory() throws {
        assertWeightsError(["nope.gguf", "cannot open"]) { _ = try GGUFFile(url: dir.appendingPathComponent("nope.gguf")) }
        assertWeightsError(["cannot open", "not a regular file"]) { _ = try GGUFFile(url: dir) }
        assertInvalidGGUF([], name: "empty.gguf", "file is 0 bytes")
    }
}
