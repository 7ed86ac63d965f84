import PhiJSON
import Foundation
import XCTest
@testable import PhiWeights

final class WeightStoreTests: TempDirTestCase {
    private func writeIndex(_ map: [String: String], name: String = WeightStore.indexFileName) throws {
        let entries = map.keys.sorted().map { "\(JSONText.quote($0)): \(JSONText.quote(map[$0] ?? ""))" }
        let json = "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {" + entries.joined(separator: ", ") + "}}"
        try writeBytes(Array(json.utf8), name: name)
    }

    private func writeTwoShards() throws {
        try writeModel(["a": .f32(shape: [2], values: [1, 2]), "b": .f32(shape: [1, 2], values: [3, 4])],
                       name: "model-00001-of-00002.safetensors")
        try writeModel(["c": .bf16(shape: [2], values: [5, 6])], name: "model-00002-of-00002.safetensors")
    }

    func testSingleModelFile() throws {
        try writeModel(["x": .f32(shape: [3], values: [1, 2, 3])], name: "model.safetensors")
        try writeModel(["ignored": .f32(shape: [1], values: [0])], name: "other.safetensors")
        let store = try WeightStore(directory: dir)
        XCTAssertEqual(store.names, ["x"])
        XCTAssertEqual(try store.tensor("x").toFloatArray(), [1, 2, 3])
    }

    func testShardedDirectoryWithIndex() throws {
        try writeTwoShards()
        try writeIndex(["a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                        "c": "model-00002-of-00002.safetensors"])
        let store = try WeightStore(directory: dir)
        XCTAssertEqual(store.names, ["a", "b", "c"])
        XCTAssertEqual(store.files.count, 2)
        XCTAssertTrue(store.contains("c"))
        XCTAssertFalse(store.contains("d"))
        XCTAssertEqual(store.info("b")?.dtype, "F32")
        XCTAssertEqual(store.info("b")?.shape, [1, 2])
        XCTAssertEqual(store.info("c")?.dtype, "BF16")
        XCTAssertNil(store.info("d"))
        XCTAssertEqual(store.unusedNames(), ["a", "b", "c"])

        XCTAssertEqual(try store.tensor("a").toFloatArray(), [1, 2])
        XCTAssertEqual(try store.tensor("c", shape: [2]).toFloatArray(), [5, 6])
        XCTAssertEqual(store.unusedNames(), ["b"])

        assertWeightsError(["model-00001-of-00002.safetensors", "tensor 'b' has shape [1, 2] but the model expects [2, 1]"]) {
            _ = try store.tensor("b", shape: [2, 1])
        }
        XCTAssertEqual(store.unusedNames(), ["b"], "a rejected shape does not count as use")
        assertWeightsError(["tensor 'd' is not in the weights in", dir.lastPathComponent]) { _ = try store.tensor("d") }
        store.markUsed("b")
        XCTAssertEqual(store.unusedNames(), [])
    }

    func testPathToASingleFile() throws {
        let url = try writeModel(["x": .f32(shape: [1], values: [7])], name: "only.safetensors")
        let store = try WeightStore(directory: url)
        XCTAssertEqual(try store.tensor("x").toFloatArray(), [7])
    }

    func testFallbackToAllSafetensorsSorted() throws {
        try writeModel(["b": .f32(shape: [1], values: [2])], name: "part-b.safetensors")
        try writeModel(["a": .f32(shape: [1], values: [1])], name: "part-a.safetensors")
        try writeBytes(Array("not weights".utf8), name: "README.md")
        let store = try WeightStore(directory: dir)
        XCTAssertEqual(store.files.map { $0.url.lastPathComponent }, ["part-a.safetensors", "part-b.safetensors"])
        XCTAssertEqual(store.names, ["a", "b"])
    }

    func testExplicitFiles() throws {
        let u1 = try writeModel(["a": .f32(shape: [1], values: [1])], name: "one.safetensors")
        let u2 = try writeModel(["b": .f32(shape: [1], values: [2])], name: "two.safetensors")
        let store = try WeightStore(files: [u2, u1])
        XCTAssertEqual(store.names, ["a", "b"])
        XCTAssertEqual(try store.tensor("b").toFloatArray(), [2])
    }

    func testNoWeights() throws {
        try writeBytes([1, 2, 3], name: "config.json")
        assertWeightsError(["no .safetensors weights in", dir.lastPathComponent]) { _ = try WeightStore(directory: dir) }
        let missing = dir.appendingPathComponent("nope")
        assertWeightsError(["nope", "cannot list"]) { _ = try WeightStore(directory: missing) }
    }

    func testIndexNamingMissingShard() throws {
        try writeTwoShards()
        try writeIndex(["a": "model-00001-of-00002.safetensors", "c": "model-00003-of-00003.safetensors"])
        assertWeightsError([WeightStore.indexFileName, "shard 'model-00003-of-00003.safetensors' does not exist"]) {
            _ = try WeightStore(directory: dir)
        }
    }

    func testIndexNamingTensorAbsentFromItsShard() throws {
        try writeTwoShards()
        try writeIndex(["a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                        "c": "model-00001-of-00002.safetensors"])
        assertWeightsError([WeightStore.indexFileName, "tensor 'c' in shard 'model-00001-of-00002.safetensors'",
                            "does not contain it"]) {
            _ = try WeightStore(directory: dir)
        }
        try writeIndex(["a": "model-00002-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                        "c": "model-00002-of-00002.safetensors"])
        assertWeightsError(["tensor 'a' in shard 'model-00002-of-00002.safetensors'", "it is in 'model-00001-of-00002.safetensors'"]) {
            _ = try WeightStore(directory: dir)
        }
        try writeIndex(["a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                        "c": "model-00002-of-00002.safetensors", "ghost": "model-00002-of-00002.safetensors"])
        assertWeightsError(["tensor 'ghost'", "does not contain it"]) { _ = try WeightStore(directory: dir) }
    }

    func testShardTensorMissingFromIndex() throws {
        try writeTwoShards()
        try writeIndex(["a": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"])
        assertWeightsError([WeightStore.indexFileName, "shard 'model-00001-of-00002.safetensors' contains tensor 'b'",
                            "weight_map does not list"]) {
            _ = try WeightStore(directory: dir)
        }
    }

    func testTensorInTwoShards() throws {
        try writeModel(["a": .f32(shape: [1], values: [1]), "x": .f32(shape: [1], values: [9])], name: "s1.safetensors")
        try writeModel(["b": .f32(shape: [1], values: [2]), "x": .f32(shape: [1], values: [8])], name: "s2.safetensors")
        // Without an index (directory listing) and with explicit files.
        assertWeightsError(["tensor 'x' appears in more than one file", "s1.safetensors", "s2.safetensors"]) {
            _ = try WeightStore(directory: dir)
        }
        assertWeightsError(["tensor 'x'", "s1.safetensors", "s2.safetensors"]) {
            _ = try WeightStore(files: [dir.appendingPathComponent("s1.safetensors"), dir.appendingPathComponent("s2.safetensors")])
        }
        // With an index that maps it to one of them.
        try writeIndex(["a": "s1.safetensors", "b": "s2.safetensors", "x": "s1.safetensors"])
        assertWeightsError(["tensor 'x' appears in more than one file", "s1.safetensors", "s2.safetensors"]) {
            _ = try WeightStore(directory: dir)
        }
    }

    func testMalformedIndex() throws {
        try writeTwoShards()
        try writeBytes(Array("{\"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}".utf8), name: WeightStore.indexFileName)
        assertWeightsError([WeightStore.indexFileName, "duplicate key \"a\""]) { _ = try WeightStore(directory: dir) }
        try writeBytes(Array("{\"metadata\": {}}".utf8), name: WeightStore.indexFileName)
        assertWeightsError([WeightStore.indexFileName, "no weight_map"]) { _ = try WeightStore(directory: dir) }
        try writeBytes(Array("{\"weight_map\": {\"a\": 3}}".utf8), name: WeightStore.indexFileName)
        assertWeightsError([WeightStore.indexFileName, "'a' is a number"]) { _ = try WeightStore(directory: dir) }
        try writeBytes([], name: WeightStore.indexFileName)
        assertWeightsError([WeightStore.indexFileName, "not valid JSON"]) { _ = try WeightStore(directory: dir) }
    }

    func testIndexCannotEscapeTheDirectory() throws {
        try writeTwoShards()
        try writeIndex(["a": "../model-00001-of-00002.safetensors"])
        assertWeightsError([WeightStore.indexFileName, "not a plain file name"]) { _ = try WeightStore(directory: dir) }
        try writeIndex(["a": "/etc/passwd"])
        assertWeightsError(["not a plain file name"]) { _ = try WeightStore(directory: dir) }
    }

    func testConcurrentUseTracking() throws {
        var tensors: [String: SafetensorsWriter.Item] = [:]
        for i in 0..<64 { tensors["t\(i)"] = .f32(shape: [1], values: [Float(i)]) }
        try writeModel(tensors, name: "model.safetensors")
        let store = try WeightStore(directory: dir)
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            if i % 2 == 0 { _ = try? store.tensor("t\(i)") }
        }
        XCTAssertEqual(store.unusedNames(), (0..<64).filter { $0 % 2 == 1 }.map { "t\($0)" }.sorted())
    }
}
