import Foundation
import PhiJSON
import PhiTensor
import XCTest
@testable import PhiWeights
import PhiTestSupport

/// Seeded mutations of valid inputs: every outcome must be a clean load or a thrown error.
final class FuzzTests: TempDirTestCase {
    private func validFile() throws -> [UInt8] {
        try SafetensorsWriter.encode([
            "model.embed.weight": .f32(shape: [3, 4], values: (0..<12).map(Float.init)),
            "model.norm.weight": .bf16(shape: [5], values: [1, 2, 3, 4, 5]),
            "lm_head.weight": .f16(shape: [2, 3], values: [1, 0.5, 0.25, -1, -2, 4]),
            "ids": SafetensorsWriter.Item(dtype: "I32", shape: [2], bytes: [1, 0, 0, 0, 2, 0, 0, 0]),
        ], metadata: ["format": "pt"])
    }

    private func mutate(_ original: [UInt8], headerEnd: Int, rng: inout SplitMix64) -> [UInt8] {
        var b = original
        switch rng.next() % 6 {
        case 0: // flip bits in the header, where the interesting structure is
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<headerEnd, using: &rng)
                b[i] ^= UInt8.random(in: 1...255, using: &rng)
            }
        case 1: // replace a header byte with a JSON-significant character
            let specials = Array("{}[]\",:0123456789-.eE \\".utf8)
            let i = Int.random(in: 8..<headerEnd, using: &rng)
            b[i] = specials[Int.random(in: 0..<specials.count, using: &rng)]
        case 2: // truncate
            b = Array(b.prefix(Int.random(in: 0..<b.count, using: &rng)))
        case 3: // random header length
            let n = rng.next() >> UInt64.random(in: 0...63, using: &rng)
            for k in 0..<8 { b[k] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(k))) }
        case 4: // insert or delete bytes anywhere
            let i = Int.random(in: 0..<b.count, using: &rng)
            if rng.next() % 2 == 0 {
                b.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: i)
            } else {
                b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...8, using: &rng)))
            }
        default: // tweak a digit in the header (offsets and shapes)
            let digits = b.indices.filter { $0 >= 8 && $0 < headerEnd && b[$0] >= 0x30 && b[$0] <= 0x39 }
            if let i = digits.randomElement(using: &rng) { b[i] = UInt8.random(in: 0x30...0x39, using: &rng) }
        }
        return b
    }

    /// Loads through the real mmap path and touches every byte of every tensor it accepts.
    private func exercise(_ url: URL) -> Bool {
        guard let file = try? SafetensorsFile(url: url) else { return false }
        for name in file.names {
            guard let raw = try? file.rawBytes(named: name) else { continue }
            XCTAssertTrue(raw.baseAddress.map { file.mappingContains($0, count: raw.count) } ?? (raw.count == 0))
            var sum: UInt8 = 0
            for byte in raw { sum &+= byte }
            _ = sum
            if let t = try? file.tensor(named: name) {
                XCTAssertEqual(t.toFloatArray().count, t.elementCount)
            }
        }
        return true
    }

    func testMutatedFilesNeverCrash() throws {
        let original = try validFile()
        let headerEnd = 8 + (try SafetensorsFile(url: writeBytes(original, name: "orig.safetensors")).headerByteCount)
        var rng = SplitMix64(seed: 0x5AFE_7E45)
        var loaded = 0, rejected = 0
        for i in 0..<400 {
            let bytes = mutate(original, headerEnd: headerEnd, rng: &rng)
            let url = try writeBytes(bytes, name: "fuzz-\(i).safetensors")
            if exercise(url) { loaded += 1 } else { rejected += 1 }
            try FileManager.default.removeItem(at: url)
        }
        XCTAssertEqual(loaded + rejected, 400)
        XCTAssertGreaterThan(rejected, 100, "most mutations should be caught")
    }

    /// The header parser without file I/O, many more iterations.
    func testMutatedHeadersInMemory() throws {
        let original = try validFile()
        let headerEnd = 8 + Int(original[0]) + Int(original[1]) << 8
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3000 {
            let bytes = mutate(original, headerEnd: min(headerEnd, original.count), rng: &rng)
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(WeightsError) -> SafetensorsHeader in try SafetensorsHeader.parse(raw, path: "mem.safetensors") }
            }
            switch result {
            case .success(let h):
                // Whatever was accepted must tile the data section exactly.
                let total = h.entries.values.reduce(0) { $0 + $1.byteCount }
                XCTAssertEqual(total, h.dataByteCount)
                XCTAssertEqual(8 + h.headerByteCount + h.dataByteCount, bytes.count)
            case .failure(let e):
                XCTAssertTrue(e.description.hasPrefix("mem.safetensors: "), e.description)
            }
        }
    }

    func testMutatedIndexAndNpyNeverCrash() throws {
        var rng = SplitMix64(seed: 99)
        let index = Array("{\"metadata\": {\"total_size\": 8}, \"weight_map\": {\"a\": \"m.safetensors\", \"b\\u00e9\": \"m.safetensors\"}}".utf8)
        let npy = try NpyWriter.encode(shape: [2, 2], values: [1, 2, 3, 4])
        for _ in 0..<1500 {
            var j = index
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                j[Int.random(in: 0..<j.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? JSONParser.parse(j)
            var n = npy
            if rng.next() % 3 == 0 {
                n = Array(n.prefix(Int.random(in: 0..<n.count, using: &rng)))
            } else {
                n[Int.random(in: 0..<min(n.count, 80), using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? NpyReader.decode(n)
        }
    }
}
