import Foundation
import PhiKit
import XCTest
import PhiTestSupport

/// The hub client against a local mirror (HF_ENDPOINT=file://…), so no network is needed: this covers the
/// cache layout, shard discovery, optional files and clean failure; the HTTP transport itself is not exercised.
final class HubDownloaderTests: XCTestCase {
    static let tiny = TestFixtures.model("phi4mini-tiny")

    func makeMirror() throws -> (mirror: URL, cache: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString)")
        let files = root.appendingPathComponent("mirror/acme/tiny-phi/resolve/main")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.tiny.path) where !f.hasPrefix("reference") {
            try FileManager.default.copyItem(at: Self.tiny.appendingPathComponent(f), to: files.appendingPathComponent(f))
        }
        return (root.appendingPathComponent("mirror"), root.appendingPathComponent("cache"))
    }

    func testSnapshotDownloadsEveryShardIntoTheCacheLayout() throws {
        let (mirror, cache) = try makeMirror()
        defer { try? FileManager.default.removeItem(at: mirror.deletingLastPathComponent()) }
        let hub = HubDownloader(environment: ["HF_ENDPOINT": mirror.absoluteString, "HF_HUB_CACHE": cache.path])
        let dir = try hub.snapshot(repo: "acme/tiny-phi")
        XCTAssertEqual(dir.path, cache.appendingPathComponent("models--acme--tiny-phi/snapshots/main").path)
        for f in ["config.json", "tokenizer.json", "model.safetensors.index.json",
                  "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent(f)),
                           try Data(contentsOf: Self.tiny.appendingPathComponent(f)), f)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("added_tokens.json").path))
        // The downloaded folder loads and generates.
        let loaded = try ModelLoader.load(path: dir.path)
        XCTAssertEqual(loaded.model.vocabularySize, 384)
        // A second call finds everything in place and does not need the mirror.
        try FileManager.default.removeItem(at: mirror)
        XCTAssertEqual(try hub.snapshot(repo: "acme/tiny-phi").path, dir.path)
    }

    func testMissingRequiredFileIsAClearError() throws {
        let (mirror, cache) = try makeMirror()
        defer { try? FileManager.default.removeItem(at: mirror.deletingLastPathComponent()) }
        try FileManager.default.removeItem(at: mirror.appendingPathComponent("acme/tiny-phi/resolve/main/model-00002-of-00002.safetensors"))
        let hub = HubDownloader(environment: ["HF_ENDPOINT": mirror.absoluteString, "HF_HUB_CACHE": cache.path])
        XCTAssertThrowsError(try hub.snapshot(repo: "acme/tiny-phi")) {
            XCTAssertTrue("\($0)".contains("model-00002-of-00002.safetensors"), "\($0)")
        }
        let partial = cache.appendingPathComponent("models--acme--tiny-phi/snapshots/main/model-00002-of-00002.safetensors")
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path))
    }

    func testRepositoryIDValidation() {
        XCTAssertTrue(HubDownloader.isRepositoryID("microsoft/Phi-4-mini-instruct"))
        XCTAssertFalse(HubDownloader.isRepositoryID("../etc"))
        XCTAssertFalse(HubDownloader.isRepositoryID("a/b/c"))
        XCTAssertFalse(HubDownloader.isRepositoryID("owner/.."))
        XCTAssertFalse(HubDownloader.isRepositoryID("no-slash"))
    }
}
