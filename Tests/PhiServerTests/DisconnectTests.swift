import Foundation
import Hummingbird
import HummingbirdTesting
import PhiKit
import PhiServer
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A client that goes away cancels its generation at once (over a real socket to a live in-process server).
final class DisconnectTests: ServerTestCase {
    /// Sends a request on a raw TCP socket, reads the first bytes of the answer, then closes the socket.
    func sendAndHangUp(port: Int, body: String, readFirst: Bool = true) throws -> String {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(ok, 0)
        let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        guard readFirst else { usleep(200_000); return "" }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return String(decoding: buffer.prefix(max(0, n)), as: UTF8.self)
        #else
        throw XCTSkip("raw sockets are only written for Linux here")
        #endif
    }

    func testDisconnectCancelsTheGeneration() async throws {
        for stream in [true, false] {
            let state = ServerState(configuration: configuration { $0.maxTokens = 6000; $0.parallel = 2 })
            state.setModel(try Self.model("phi4mm-tiny"))
            defer { state.shutdown() }
            let app = Application(router: PhiServer.buildRouter(state: state),
                                  configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                let port = try XCTUnwrap(client.port)
                // End tokens banned: the request would run for its 6000 tokens unless cancelled.
                let ban = try Self.model("phi4mm-tiny").eosTokenIDs.sorted().map { "\"\($0)\": -100" }.joined(separator: ", ")
                let body = #"{"messages": [{"role": "user", "content": "Go on forever."}], "max_tokens": 6000, "stream": \#(stream),"#
                    + #" "logit_bias": {\#(ban)}}"#
                if stream {
                    let head = try self.sendAndHangUp(port: port, body: body)
                    XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"), head)
                } else {
                    // A non-streamed request: hang up while it runs (nothing has been answered yet).
                    _ = try self.sendAndHangUp(port: port, body: body, readFirst: false)
                }
                let engine = try XCTUnwrap(state.engine)
                var drained = false
                for _ in 0..<300 {
                    if engine.stats.running == 0 && engine.stats.queued == 0 { drained = true; break }
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
                XCTAssertTrue(drained, "the request left its slot (stream: \(stream))")
                // Cancelled, not finished: nothing was counted as a finished request.
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                XCTAssertFalse(metrics.contains("phikit_generated_tokens_total 6000"), metrics)
            }
        }
    }
}
