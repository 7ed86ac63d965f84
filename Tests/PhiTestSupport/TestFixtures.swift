import Foundation

/// Where the committed test fixtures are, for every test target: one place instead of relative paths in each
/// file. PhiModelsTests also copies its Fixtures into its bundle (`Bundle.module`); other targets read the
/// same files from the source tree through here.
public enum TestFixtures {
    /// The repository's Tests folder.
    public static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// Tiny model folders made by tools/fixtures (phi4mini-tiny, phi35-tiny, llama-tiny, phi4mm-tiny, …).
    public static let models = testsDirectory.appendingPathComponent("PhiModelsTests/Fixtures")

    /// One tiny model folder, e.g. `model("phi4mini-tiny")`.
    public static func model(_ name: String) -> URL { models.appendingPathComponent(name) }

    /// PhiTokenizerTests' fixtures: the real Phi-4 tokenizer rebuilt from o200k_base (tools/tokenizer), cases.
    public static let tokenizers = testsDirectory.appendingPathComponent("PhiTokenizerTests/Fixtures")

    /// llama.cpp's outputs on SmolLM2-135M-Instruct (tools/llamacpp/make_smollm2_refs.py).
    public static let smollm2 = testsDirectory.appendingPathComponent("Fixtures/smollm2")

    /// A fixture folder's reference.json as a dictionary (nil when unreadable).
    public static func referenceJSON(_ folder: URL) -> [String: Any]? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("reference.json")) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// A fresh path in the temporary folder (the caller removes it).
    public static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
    }
}
