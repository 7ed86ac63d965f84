import Foundation
import PhiModels
import PhiTensor
import PhiWeights
import XCTest
import PhiTestSupport

/// A golden fixture folder written by tools/fixtures/make_model_fixtures.py: a tiny HF model plus
/// reference.json (ids, metadata) and reference.safetensors (transformers' logits and activations).
struct ReferenceFixture {
    let name: String
    let directory: URL
    let json: [String: Any]
    let tensors: WeightStore

    init(_ name: String) throws {
        guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw XCTSkip("fixtures missing from the test bundle")
        }
        self.name = name
        directory = root.appendingPathComponent(name)
        let data = try Data(contentsOf: directory.appendingPathComponent("reference.json"))
        json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        tensors = try WeightStore(files: [directory.appendingPathComponent("reference.safetensors")])
    }

    func caseInfo(_ c: String) throws -> [String: Any] {
        let cases = try XCTUnwrap(json["cases"] as? [String: Any])
        return try XCTUnwrap(cases[c] as? [String: Any], "no case \(c) in \(name)")
    }

    func ints(_ c: String, _ key: String) throws -> [Int] {
        try XCTUnwrap(caseInfo(c)[key] as? [Int], "\(name).\(c).\(key)")
    }

    func tensor(_ key: String) throws -> (values: [Float], shape: [Int]) {
        let t = try tensors.tensor(key)
        return (t.toFloatArray(), t.shape)
    }

    func loadModel() throws -> Phi3Model { try Phi3Model(directory: directory) }
}
