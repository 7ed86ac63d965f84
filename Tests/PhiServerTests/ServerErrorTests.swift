import Foundation
import HummingbirdTesting
import NIOCore
import PhiKit
import PhiServer
import XCTest

/// Every client fault is a 400 (or 401/404/405/413/503) in OpenAI's error shape, never a 500 or a 200.
final class ServerErrorTests: ServerTestCase {
    func testHealthAndModels() async throws {
        try await withServer(nil) { client, state in
            let r = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(r.status, .serviceUnavailable, "503 while loading")
            try self.assertError(try await self.post(client, "/v1/chat/completions", ["messages": [["role": "user", "content": "x"]]]), 503)
            state.setModel(try Self.model("phi4mini-tiny"))
            let ok = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(ok.status, .ok)
            let models = try self.json(try await client.execute(uri: "/v1/models", method: .get))
            XCTAssertEqual(models["object"] as? String, "list")
            XCTAssertEqual(((models["data"] as? [[String: Any]])?.first)?["id"] as? String, "phi-4")
            let one = try await client.execute(uri: "/v1/models/phi-4", method: .get)
            XCTAssertEqual(one.status, .ok)
            try self.assertError(try await client.execute(uri: "/v1/models/gpt-9", method: .get), 404)
        }
    }

    func testBadBodies() async throws {
        try await withServer { client, _ in
            let url = "/v1/chat/completions"
            let user: [[String: Any]] = [["role": "user", "content": "hi"]]
            try self.assertError(try await self.postRaw(client, url, Array("{\"messages\": [".utf8)), 400)
            try self.assertError(try await self.postRaw(client, url, [0x7B, 0xFF, 0xFE, 0x7D]), 400)
            try self.assertError(try await self.postRaw(client, url, []), 400)
            try self.assertError(try await self.postRaw(client, url, Array("[1, 2]".utf8)), 400)
            try self.assertError(try await self.post(client, url, ["model": "phi-4"]), 400, param: "messages")
            try self.assertError(try await self.post(client, url, ["messages": []]), 400, param: "messages")
            try self.assertError(try await self.post(client, url, ["messages": "hi"]), 400, param: "messages")
            try self.assertError(try await self.post(client, url, ["messages": user, "temperature": "hot"]), 400, param: "temperature")
            try self.assertError(try await self.post(client, url, ["messages": user, "temperature": 7]), 400, param: "temperature")
            try self.assertError(try await self.post(client, url, ["messages": user, "max_tokens": 1e300]), 400, param: "max_tokens")
            try self.assertError(try await self.post(client, url, ["messages": user, "max_tokens": 100000]), 400, param: "max_tokens")
            try self.assertError(try await self.post(client, url, ["messages": user, "n": 2]), 400, param: "n")
            try self.assertError(try await self.post(client, url, ["messages": user, "stop": [1]]), 400, param: "stop")
            try self.assertError(try await self.post(client, url, ["messages": user, "logit_bias": ["999999999": 5]]), 400, param: "logit_bias")
            try self.assertError(try await self.post(client, url, ["messages": [["role": "wizard", "content": "x"]]]), 400,
                                 param: "messages[0].role")
            try self.assertError(try await self.post(client, url, ["messages": [["role": "user", "content": [["type": "video", "video": "x"]]]]]),
                                 400, param: "messages[0].content[0].type")
            try self.assertError(try await self.post(client, url, ["messages": [["role": "user", "content": [["type": "image_url",
                "image_url": ["url": "data:image/png;base64,@@@not-base64@@@"]]]]]]), 400)
            try self.assertError(try await self.post(client, url, ["messages": [["role": "user", "content": [["type": "image_url",
                "image_url": ["url": "https://example.com/cat.png"]]]]]]), 400)
            try self.assertError(try await self.post(client, url, ["messages": user, "response_format": ["type": "xml"]]), 400,
                                 param: "response_format.type")
            try self.assertError(try await self.post(client, url, ["messages": user, "tools": [["type": "function"]]]), 400,
                                 param: "tools[0].function.name")
            // Deep nesting and a prompt over the context are 400s as well.
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            try self.assertError(try await self.postRaw(client, url, Array("{\"messages\": \(deep)}".utf8)), 400)
            let huge = String(repeating: "word ", count: 5000)
            let e = try self.assertError(try await self.post(client, url, ["messages": [["role": "user", "content": huge]], "max_tokens": 1]), 400)
            XCTAssertEqual(e["code"] as? String, "context_length_exceeded")
        }
    }

    func testImagesOnATextModelAreA400() async throws {
        try await withServer { client, _ in
            let png = try Data(contentsOf: Self.fixtures.appendingPathComponent("phi4mm-media/image_A.png")).base64EncodedString()
            try self.assertError(try await self.post(client, "/v1/chat/completions", ["messages": [["role": "user", "content": [
                ["type": "text", "text": "What is this?"],
                ["type": "image_url", "image_url": ["url": "data:image/png;base64,\(png)"]]]]]]), 400)
        }
    }

    func testRoutingErrors() async throws {
        try await withServer { client, _ in
            try self.assertError(try await client.execute(uri: "/v1/nothing", method: .get), 404)
            let r = try await client.execute(uri: "/v1/chat/completions", method: .get)
            try self.assertError(r, 405)
            XCTAssertEqual(r.headers[.allow], "POST")
        }
    }

    func testBodyLimitIs413() async throws {
        try await withServer(configure: { $0.maxBodyBytes = 1000 }) { client, _ in
            let big = String(repeating: "x", count: 5000)
            try self.assertError(try await self.post(client, "/v1/chat/completions", ["messages": [["role": "user", "content": big]]]), 413)
        }
    }

    func testFullQueueIs503() async throws {
        try await withServer(configure: { $0.maxQueued = 0; $0.parallel = 0 }) { client, _ in
            let r = try await self.post(client, "/v1/chat/completions", ["messages": [["role": "user", "content": "x"]]])
            let e = try self.assertError(r, 503)
            XCTAssertEqual(e["code"] as? String, "queue_full")
            XCTAssertEqual(r.headers[.retryAfter], "1")
        }
    }

    func testAPIKey() async throws {
        try await withServer(configure: { $0.apiKey = "sekret" }) { client, _ in
            let req: [String: Any] = ["messages": [["role": "user", "content": "x"]], "max_tokens": 1]
            try self.assertError(try await self.post(client, "/v1/chat/completions", req), 401)
            try self.assertError(try await self.post(client, "/v1/chat/completions", req, headers: [.authorization: "Bearer wrong"]), 401)
            try self.assertError(try await self.post(client, "/v1/chat/completions", req, headers: [.authorization: "Bearer sekret2"]), 401)
            try self.assertError(try await client.execute(uri: "/v1/models", method: .get), 401)
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok, "/health stays public")
            let ok = try await self.post(client, "/v1/chat/completions", req, headers: [.authorization: "Bearer sekret"])
            XCTAssertEqual(ok.status, .ok)
        }
    }

    func testCORSOnlyWhenConfigured() async throws {
        try await withServer { client, _ in
            let r = try await client.execute(uri: "/v1/models", method: .get, headers: [.origin: "http://evil.example"])
            XCTAssertNil(r.headers[.accessControlAllowOrigin])
        }
        try await withServer(configure: { $0.corsOrigin = "http://app.example" }) { client, _ in
            let r = try await client.execute(uri: "/v1/models", method: .get, headers: [.origin: "http://app.example"])
            XCTAssertEqual(r.headers[.accessControlAllowOrigin], "http://app.example")
        }
    }

    func testMetrics() async throws {
        try await withServer { client, _ in
            _ = try await self.post(client, "/v1/chat/completions", ["messages": [["role": "user", "content": "x"]], "max_tokens": 3])
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for name in ["phikit_prompt_tokens_total", "phikit_generated_tokens_total", "phikit_prompt_seconds_total",
                         "phikit_generation_seconds_total", "phikit_requests_running", "phikit_requests_queued",
                         "phikit_prefix_cache_hits"] {
                XCTAssertTrue(text.contains(name), "missing \(name) in\n\(text)")
            }
            XCTAssertTrue(text.contains("phikit_generated_tokens_total 3"), text)
        }
    }
}
