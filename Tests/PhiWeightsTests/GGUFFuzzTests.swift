import Foundation
import PhiTensor
import XCTest
@testable import PhiWeights
import PhiTestSupport

/// Seeded mutations of a valid GGUF file: every outcome must be a clean load or a thrown error, never a crash or
/// a hang, and whatever loads must satisfy the layout rules.
final class GGUFFuzzTests: TempDirTestCase {
    private func validFile() throws -> (bytes: [UInt8], dataOffset: Int) {
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("llama.block_count", .uint32(2))
        w.set("tokenizer.ggml.tokens", .array(.string, ["a", "b", "Ġc", "<|end|>"].map(GGUFValue.string)))
        w.set("tokenizer.ggml.token_type", .array(.int32, [1, 1, 1, 3].map(GGUFValue.int32)))
        w.set("nested", .array(.array, [.array(.float32, [.float32(1)]), .array(.bool, [.bool(true)])]))
        w.set("ratio", .float64(0.5))
        w.addTensor(name: "token_embd.weight", dtype: .q8_0, shape: [2, 32], bytes: patternBytes(68, seed: 1))
        w.addTensor(name: "blk.0.attn_norm.weight", dtype: .f32, shape: [4], bytes: f32Bytes([1, 2, 3, 4]))
        w.addTensor(name: "blk.0.ffn_down.weight", dtype: .q4_K, shape: [1, 256], bytes: patternBytes(144, seed: 2))
        w.addTensor(name: "blk.0.x", type: GGMLType(named: "Q5_0") ?? GGMLType(.f32), dimensions: [32], bytes: patternBytes(22, seed: 3))
        let bytes = try w.encode()
        let header = try bytes.withUnsafeBytes { raw throws(WeightsError) in try GGUFHeader.parse(raw, path: "orig.gguf") }
        return (bytes, header.dataOffset)
    }

    private func mutate(_ original: [UInt8], headerEnd: Int, rng: inout SplitMix64) -> [UInt8] {
        var b = original
        switch rng.next() % 7 {
        case 0: // flip bits in the header, where the structure is
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 0..<headerEnd, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
        case 1: // overwrite an aligned 8-byte word of the header with an interesting value
            let values: [UInt64] = [0, 1, 3, 4, 5, 9, 12, 13, 32, 255, 1 << 16, 1 << 24, 1 << 31, 1 << 32,
                                    1 << 40, 1 << 62, UInt64(Int64.max), .max, .max - 7]
            let v = values[Int.random(in: 0..<values.count, using: &rng)]
            let i = Int.random(in: 4..<(headerEnd - 8), using: &rng)
            for k in 0..<(rng.next() % 2 == 0 ? 4 : 8) { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        case 2: // truncate anywhere
            b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
        case 3: // insert or delete bytes anywhere
            let i = Int.random(in: 0..<b.count, using: &rng)
            if rng.next() % 2 == 0 {
                b.insert(contentsOf: (0..<Int.random(in: 1...9, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
            } else {
                b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...9, using: &rng)))
            }
        case 4: // a small value in a random header byte (type tags, dimension counts)
            b[Int.random(in: 4..<headerEnd, using: &rng)] = UInt8.random(in: 0...14, using: &rng)
        case 5: // flip bits anywhere, data included
            b[Int.random(in: 0..<b.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
        default: // append garbage
            b += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        return b
    }

    /// Whatever parses must be self-consistent: tensors inside the data section, aligned, tiled.
    private func checkInvariants(_ h: GGUFHeader, fileSize: Int) {
        XCTAssertEqual(h.dataOffset % h.alignment, 0)
        XCTAssertLessThanOrEqual(h.dataOffset + h.dataByteCount, max(fileSize, h.dataOffset))
        var covered = 0
        for t in h.tensorInfos.sorted(by: { $0.offset < $1.offset }) {
            XCTAssertEqual(t.offset % h.alignment, 0)
            XCTAssertGreaterThanOrEqual(t.offset, covered, "tensors must not overlap")
            XCTAssertLessThanOrEqual(t.offset + t.byteCount, h.dataByteCount)
            XCTAssertEqual(t.type.byteCount(elements: t.elementCount), t.byteCount)
            XCTAssertEqual(t.dimensions[0] % t.type.blockElements, 0)
            covered = t.offset + t.byteCount
        }
    }

    /// The parser alone, many iterations.
    func testMutatedHeadersInMemory() throws {
        let (original, dataOffset) = try validFile()
        var rng = SplitMix64(seed: 0x6_6_0F)
        var accepted = 0
        for _ in 0..<3000 {
            let bytes = mutate(original, headerEnd: dataOffset, rng: &rng)
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(WeightsError) -> GGUFHeader in try GGUFHeader.parse(raw, path: "mem.gguf") }
            }
            switch result {
            case .success(let h):
                accepted += 1
                checkInvariants(h, fileSize: bytes.count)
            case .failure(let e):
                XCTAssertTrue(e.description.hasPrefix("mem.gguf: "), e.description)
            }
        }
        XCTAssertGreaterThan(accepted, 100, "data-only mutations should still load")
        XCTAssertLessThan(accepted, 2000, "most header mutations should be caught")
    }

    /// Through the real mmap path, touching every byte and every accessor of what loads.
    func testMutatedFilesNeverCrash() throws {
        let (original, dataOffset) = try validFile()
        var rng = SplitMix64(seed: 0xF00D)
        var loaded = 0, rejected = 0
        for i in 0..<300 {
            let url = try writeBytes(mutate(original, headerEnd: dataOffset, rng: &rng), name: "fuzz-\(i).gguf")
            if let file = try? GGUFFile(url: url) {
                loaded += 1
                for info in file.tensorInfos {
                    guard let raw = try? file.rawBytes(named: info.name) else { XCTFail("listed tensor unreadable"); continue }
                    XCTAssertTrue(raw.baseAddress.map { file.mappingContains($0, count: raw.count) } ?? false)
                    var sum: UInt8 = 0
                    for byte in raw { sum &+= byte }
                    _ = sum
                    if let t = try? file.tensor(named: info.name) {
                        XCTAssertEqual(t.toFloatArray().count, t.elementCount)
                    }
                }
                for key in file.metadataKeys {
                    _ = try? file.stringArray(key)
                    _ = try? file.intArray(key)
                    _ = try? file.floatArray(key)
                    _ = try? file.int(key)
                    _ = try? file.string(key)
                }
            } else {
                rejected += 1
            }
            try FileManager.default.removeItem(at: url)
        }
        XCTAssertEqual(loaded + rejected, 300)
        XCTAssertGreaterThan(rejected, 100)
    }
}
