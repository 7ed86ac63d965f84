import PhiJSON
import Foundation
import PhiKernels

/// model.safetensors.index.json: `{"metadata": {...}, "weight_map": {tensor name: shard file}}`.
struct WeightIndex {
    let url: URL
    /// Tensor name → shard file name, as written in the index.
    let weightMap: [String: String]
    /// Distinct shard file names, sorted.
    let shardNames: [String]

    init(url: URL) throws(WeightsError) {
        self.url = url
        let path = url.path
        func invalid(_ reason: String) -> WeightsError { .invalidIndex(file: path, reason: reason) }

        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: path)
        } catch {
            throw WeightsError.io(file: path, reason: "cannot read the index: \(error)")
        }
        guard mapping.byteCount <= WeightStore.maxIndexBytes else {
            throw invalid("index is \(mapping.byteCount) bytes, more than the \(WeightStore.maxIndexBytes)-byte limit")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(mapping.bytes(offset: 0, count: mapping.byteCount),
                                        limits: .init(maxDepth: 32, maxBytes: WeightStore.maxIndexBytes))
        } catch {
            throw invalid("index is not valid JSON: \(error.description)")
        }
        guard let object = root.objectValue else { throw invalid("index is not a JSON object") }
        guard let mapValue = object["weight_map"] else { throw invalid("index has no weight_map") }
        guard let map = mapValue.objectValue else {
            throw invalid("weight_map is \(mapValue.kindName), not an object")
        }
        var weightMap: [String: String] = [:]
        var shards = Set<String>()
        for name in map.keys {
            guard let shard = map[name]?.stringValue else {
                throw invalid("weight_map entry '\(name)' is \(map[name]?.kindName ?? "missing"), not a file name")
            }
            guard Self.isPlainFileName(shard) else {
                throw invalid("weight_map entry '\(name)' names shard \(JSONText.quote(shard)), which is not a plain file name in the model directory")
            }
            weightMap[name] = shard
            shards.insert(shard)
        }
        guard !weightMap.isEmpty else { throw invalid("weight_map is empty") }
        self.weightMap = weightMap
        self.shardNames = shards.sorted()
    }

    /// Shards must sit next to the index: no separators, no "..", no hidden tricks.
    static func isPlainFileName(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.contains("/") && !s.contains("\\") && !s.contains("\0")
    }

    /// Every name in the map is in its shard, and every tensor in a shard is in the map.
    func check(against shards: [String: SafetensorsFile]) throws(WeightsError) {
        let path = url.path
        for name in weightMap.keys.sorted() {
            guard let shard = weightMap[name], let file = shards[shard] else { continue }
            if !file.contains(name) {
                let elsewhere = shards.keys.sorted().first { shards[$0]?.contains(name) ?? false }
                let hint = elsewhere.map { " (it is in '\($0)')" } ?? ""
                throw WeightsError.invalidIndex(
                    file: path, reason: "weight_map puts tensor '\(name)' in shard '\(shard)', but that shard does not contain it\(hint)")
            }
        }
        for shard in shardNames {
            guard let file = shards[shard] else { continue }
            for name in file.names {
                guard let mapped = weightMap[name] else {
                    throw WeightsError.invalidIndex(
                        file: path, reason: "shard '\(shard)' contains tensor '\(name)', which weight_map does not list")
                }
                if mapped != shard, let other = shards[mapped] {
                    throw WeightsError.duplicateTensor(name: name, files: [other.path, file.path])
                }
            }
        }
    }
}
