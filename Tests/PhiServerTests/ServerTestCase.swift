import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PhiKit
import PhiServer
import XCTest

/// Shared set-up: the tiny fixture models loaded once, an in-process router per test.
class ServerTestCase: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("PhiModelsTests/Fixtures")
    nonisolated(unsafe) static var models: [String: LoadedModel] = [:]
    static let lock = NSLock()

    static func model(_ name: String) throws -> LoadedModel {
        lock.lock()
        defer { lock.unlock() }
        if let m = models[name] { return m }
        let m = try ModelLoader.load(path: fixtures.appendingPathComponent(name).path, threads: 2)
        models[name] = m
        return m
    }

    func configuration(_ edit: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var c = ServerConfiguration()
        c.maxTokens = 64
        c.keepAliveSeconds = 0.05
        edit(&c)
        return c
    }

    /// Runs `body` against an in-process server on `model` (nil: still loading).
    func withServer(_ model: String? = "phi4mini-tiny", configure: (inout ServerConfiguration) -> Void = { _ in },
                    _ body: (any TestClientProtocol, ServerState) async throws -> Void) async throws {
        let state = ServerState(configuration: configuration(configure))
        if let model { state.setModel(try Self.model(model)) }
        defer { state.shutdown() }
        let app = Application(router: PhiServer.buildRouter(state: state))
        try await app.test(.router) { client in try await body(client, state) }
    }

    func json(_ r: TestResponse, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let data = Data(buffer: r.body)
        guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            XCTFail("not a JSON object: \(String(decoding: data, as: UTF8.self))", file: file, line: line)
            return [:]
        }
        return o
    }

    func post(_ client: any TestClientProtocol, _ uri: String, _ object: Any, headers: HTTPFields = [:]) async throws -> TestResponse {
        var h = headers
        h[.contentType] = "application/json"
        let body = try JSONSerialization.data(withJSONObject: object)
        return try await client.execute(uri: uri, method: .post, headers: h, body: ByteBuffer(data: body))
    }

    func postRaw(_ client: any TestClientProtocol, _ uri: String, _ body: [UInt8], headers: HTTPFields = [:]) async throws -> TestResponse {
        var h = headers
        if h[.contentType] == nil { h[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: .post, headers: h, body: ByteBuffer(bytes: body))
    }

    /// Checks OpenAI's error shape and returns the error object.
    @discardableResult
    func assertError(_ r: TestResponse, _ status: Int, param: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(Int(r.status.code), status, String(buffer: r.body), file: file, line: line)
        let o = try json(r, file: file, line: line)
        let e = try XCTUnwrap(o["error"] as? [String: Any], file: file, line: line)
        XCTAssertNotNil(e["message"] as? String, file: file, line: line)
        XCTAssertNotNil(e["type"] as? String, file: file, line: line)
        XCTAssertTrue(e.keys.contains("param") && e.keys.contains("code"), file: file, line: line)
        if let param { XCTAssertEqual(e["param"] as? String, param, file: file, line: line) }
        return e
    }

    /// Splits an SSE body into its data payloads, checking the framing: every event is `data: …` followed by a
    /// blank line; comments start with ':'.
    func sseEvents(_ r: TestResponse, file: StaticString = #filePath, line: UInt = #line) -> (events: [String], comments: Int) {
        let text = String(buffer: r.body)
        XCTAssertTrue(text.hasSuffix("\n\n"), "an SSE body ends with a blank line", file: file, line: line)
        var events: [String] = [], comments = 0
        for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
            if block.hasPrefix(":") { comments += 1; continue }
            XCTAssertTrue(block.hasPrefix("data: "), "bad SSE block: \(block)", file: file, line: line)
            XCTAssertFalse(block.contains("\n"), "one line per event", file: file, line: line)
            events.append(String(block.dropFirst(6)))
        }
        return (events, comments)
    }

    func decode(_ s: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }
}
