import Foundation
import PhiKit
import PhiServer
import XCTest

/// The engine settings `phi4 serve` takes: byte sizes as operators write them, and the memory budget's
/// refusal of a request that could never fit as a 400 (streamed or not), not a 500 or a stream error.
final class EngineSettingsTests: ServerTestCase {
    func testByteSizes() throws {
        let good: [(String, Int)] = [
            ("0", 0), ("1073741824", 1 << 30), ("512M", 512 << 20), ("512m", 512 << 20), ("2G", 2 << 30),
            ("1GiB", 1 << 30), ("1 GiB", 1 << 30), ("64k", 64 << 10), ("1.5G", 3 << 29), ("0.5MiB", 1 << 19),
            ("500MB", 500_000_000), ("2GB", 2_000_000_000), ("1T", 1 << 40), ("7b", 7), (" 3M ", 3 << 20),
        ]
        for (text, bytes) in good { XCTAssertEqual(try ByteSize.parse(text), bytes, text) }
        for bad in ["", "M", "-1", "1.2.3", "12Q", "1e9", "9223372036854775807K", "99999999999999999999", "1..", ".", "G1", "١٢M"] {
            XCTAssertThrowsError(try ByteSize.parse(bad), bad)
        }
        XCTAssertEqual(ByteSize.describe(1 << 30), "1 GiB")
        XCTAssertEqual(ByteSize.describe(3 << 29), "1.5 GiB")
        XCTAssertEqual(ByteSize.describe(100), "100 B")
    }

    func testRequestOverTheMemoryBudgetIsA400() async throws {
        try await withServer(configure: { $0.memoryBudget = 1 }) { client, state in
            for stream in [false, true] {
                let r = try await self.post(client, "/v1/chat/completions", ["messages": [["role": "user", "content": "x"]],
                                                                            "max_tokens": 20, "stream": stream])
                let e = try self.assertError(r, 400, param: "max_tokens")
                XCTAssertEqual(e["code"] as? String, "exceeds_memory_budget")
                XCTAssertTrue((e["message"] as? String ?? "").contains("memory budget"))
            }
            XCTAssertEqual(state.engine?.stats.memoryBudget, 1)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            XCTAssertTrue(metrics.contains("phikit_memory_budget_bytes 1"), metrics)
            XCTAssertTrue(metrics.contains("phikit_memory_reserved_bytes 0"), metrics)
            XCTAssertTrue(metrics.contains("phikit_weights_pending_repack 0"), metrics)
        }
    }
}
