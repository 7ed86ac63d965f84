import Foundation
import HummingbirdTesting
import NIOCore
import PhiKit
@testable import PhiServer
import XCTest

final class ChatCompletionsTests: ServerTestCase {
    let hello: [String: Any] = ["model": "phi-4", "messages": [["role": "user", "content": "Hello!"]], "max_tokens": 12]

    func testNonStreamingCompletionShape() async throws {
        try await withServer { client, _ in
            let r = try await self.post(client, "/v1/chat/completions", self.hello)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "application/json")
            let o = try self.json(r)
            XCTAssertEqual(o["object"] as? String, "chat.completion")
            XCTAssertTrue((o["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            XCTAssertEqual(o["model"] as? String, "phi-4")
            let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
            let message = try XCTUnwrap(choice["message"] as? [String: Any])
            XCTAssertEqual(message["role"] as? String, "assistant")
            XCTAssertNotNil(message["content"] as? String)
            XCTAssertTrue(["stop", "length"].contains(choice["finish_reason"] as? String ?? ""))
            let usage = try XCTUnwrap(o["usage"] as? [String: Any])
            let completion = try XCTUnwrap(usage["completion_tokens"] as? Int)
            XCTAssertGreaterThan(completion, 0)
            XCTAssertLessThanOrEqual(completion, 12)
            XCTAssertEqual(usage["total_tokens"] as? Int, (usage["prompt_tokens"] as? Int ?? 0) + completion)
            XCTAssertNotNil((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int)
        }
    }

    func testStreamMatchesNonStreamAndIsFramedAsSSE() async throws {
        try await withServer { client, _ in
            let plain = try self.json(try await self.post(client, "/v1/chat/completions", self.hello))
            let text = try XCTUnwrap((((plain["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])?["content"] as? String)
            var req = self.hello
            req["stream"] = true
            let r = try await self.post(client, "/v1/chat/completions", req)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/event-stream")
            let (events, _) = self.sseEvents(r)
            XCTAssertEqual(events.last, "[DONE]")
            let chunks = try events.dropLast().map(self.decode)
            XCTAssertGreaterThanOrEqual(chunks.count, 2)
            var content = "", finishes: [String] = []
            for (i, c) in chunks.enumerated() {
                XCTAssertEqual(c["object"] as? String, "chat.completion.chunk")
                XCTAssertNil(c["usage"], "no usage unless asked for")
                let choice = try XCTUnwrap((c["choices"] as? [[String: Any]])?.first)
                let delta = try XCTUnwrap(choice["delta"] as? [String: Any])
                if i == 0 { XCTAssertEqual(delta["role"] as? String, "assistant") }
                content += delta["content"] as? String ?? ""
                if let f = choice["finish_reason"] as? String { finishes.append(f) }
            }
            XCTAssertEqual(content, text)
            XCTAssertEqual(finishes.count, 1, "exactly one chunk carries the finish reason")
            XCTAssertEqual(Set(chunks.compactMap { $0["id"] as? String }).count, 1, "one id for the whole stream")
        }
    }

    func testIncludeUsageAddsAFinalUsageChunk() async throws {
        try await withServer { client, _ in
            var req = self.hello
            req["stream"] = true
            req["stream_options"] = ["include_usage": true]
            let (events, _) = self.sseEvents(try await self.post(client, "/v1/chat/completions", req))
            XCTAssertEqual(events.last, "[DONE]")
            let chunks = try events.dropLast().map(self.decode)
            let last = try XCTUnwrap(chunks.last)
            XCTAssertEqual((last["choices"] as? [Any])?.count, 0)
            let usage = try XCTUnwrap(last["usage"] as? [String: Any])
            XCTAssertGreaterThan(usage["completion_tokens"] as? Int ?? 0, 0)
            for c in chunks.dropLast() { XCTAssertTrue(c["usage"] is NSNull, "usage is null on the other chunks") }
        }
    }

    func testKeepAliveTicksUntilTheFirstToken() async throws {
        // Events that come late: the feed mixes in keep-alive ticks (written as SSE comments) until told to stop.
        let (events, continuation) = AsyncThrowingStream<EngineEvent, Error>.makeStream()
        let feed = EventFeed(events, keepAliveSeconds: 0.01)
        var ticks = 0
        while ticks < 3, let item = try await feed.next() { if case .keepAlive = item { ticks += 1 } }
        XCTAssertEqual(ticks, 3)
        feed.stopKeepAlive()
        continuation.yield(.started(promptTokens: 1, cachedTokens: 0))
        continuation.finish()
        var sawStart = false
        while let item = try await feed.next() { if case .event(.started) = item { sawStart = true } }
        XCTAssertTrue(sawStart)
    }

    func testForcedOutputAndPrefixCacheReportCachedTokens() async throws {
        try await withServer(configure: { $0.forcedOutputs = ["Forty-two."] }) { client, _ in
            let req: [String: Any] = ["messages": [["role": "system", "content": String(repeating: "You are terse. ", count: 2)],
                                                   ["role": "user", "content": "What is the answer?"]]]
            let a = try self.json(try await self.post(client, "/v1/chat/completions", req))
            let b = try self.json(try await self.post(client, "/v1/chat/completions", req))
            for o in [a, b] {
                let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
                XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String, "Forty-two.")
                XCTAssertEqual(choice["finish_reason"] as? String, "stop")
            }
            let cached = { (o: [String: Any]) in ((o["usage"] as? [String: Any])?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int }
            XCTAssertEqual(cached(a), 0)
            let prompt = (b["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0
            XCTAssertEqual(cached(b), prompt - 1, "all but the last prompt token come from the cache")
        }
    }

    func testLogprobs() async throws {
        try await withServer { client, _ in
            var req = self.hello
            req["logprobs"] = true
            req["top_logprobs"] = 3
            req["max_tokens"] = 4
            let o = try self.json(try await self.post(client, "/v1/chat/completions", req))
            let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
            let content = try XCTUnwrap((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
            XCTAssertFalse(content.isEmpty)
            for e in content {
                XCTAssertNotNil(e["token"] as? String)
                XCTAssertLessThanOrEqual(e["logprob"] as? Double ?? 1, 0)
                XCTAssertEqual((e["top_logprobs"] as? [Any])?.count, 3)
            }
        }
    }

    func testCompletionsRawPrompt() async throws {
        try await withServer { client, _ in
            let r = try await self.post(client, "/v1/completions", ["prompt": "Once upon a time", "max_tokens": 5])
            XCTAssertEqual(r.status, .ok)
            let o = try self.json(r)
            XCTAssertEqual(o["object"] as? String, "text_completion")
            let choice = try XCTUnwrap((o["choices"] as? [[String: Any]])?.first)
            XCTAssertNotNil(choice["text"] as? String)
            XCTAssertEqual((o["usage"] as? [String: Any])?["completion_tokens"] as? Int, 5)
            let s = try await self.post(client, "/v1/completions", ["prompt": "Once upon a time", "max_tokens": 5, "stream": true])
            let (events, _) = self.sseEvents(s)
            XCTAssertEqual(events.last, "[DONE]")
            let text = try events.dropLast().map(self.decode).compactMap { (($0["choices"] as? [[String: Any]])?.first)?["text"] as? String }.joined()
            XCTAssertEqual(text, choice["text"] as? String)
        }
    }

    func testControlTokenTextStaysTextInCompletions() async throws {
        try await withServer { client, _ in
            let o = try self.json(try await self.post(client, "/v1/completions", ["prompt": "<|end|>", "max_tokens": 1]))
            let prompt = (o["usage"] as? [String: Any])?["prompt_tokens"] as? Int ?? 0
            XCTAssertGreaterThan(prompt, 1, "<|end|> typed by a client is several text tokens, not the control token")
        }
    }
}
