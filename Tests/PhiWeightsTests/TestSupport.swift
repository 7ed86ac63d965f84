import Foundation
import XCTest
@testable import PhiWeights

/// A fresh temporary directory per test, removed afterwards.
class TempDirTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("phiweights-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    @discardableResult
    func writeBytes(_ bytes: [UInt8], name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A safetensors file from a raw header and data section; `headerLength` overrides the
    /// length field to build inconsistent files.
    @discardableResult
    func writeRaw(header: [UInt8], data: [UInt8] = [], headerLength: UInt64? = nil, name: String = "bad.safetensors") throws -> URL {
        try writeBytes(rawSafetensors(header: header, data: data, headerLength: headerLength), name: name)
    }

    @discardableResult
    func writeRaw(header: String, data: [UInt8] = [], headerLength: UInt64? = nil, name: String = "bad.safetensors") throws -> URL {
        try writeRaw(header: Array(header.utf8), data: data, headerLength: headerLength, name: name)
    }

    @discardableResult
    func writeModel(_ tensors: [String: SafetensorsWriter.Item], metadata: [String: String] = [:], name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try SafetensorsWriter.write(tensors, metadata: metadata, to: url)
        return url
    }

    /// Asserts that `body` throws a `WeightsError` whose description contains every fragment.
    func assertWeightsError(
        _ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) {
        do {
            try body()
            XCTFail("expected a WeightsError containing \(fragments)", file: file, line: line)
        } catch let error as WeightsError {
            let text = error.description
            for f in fragments {
                XCTAssertTrue(text.contains(f), "'\(text)' does not contain '\(f)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a WeightsError, got \(type(of: error)): \(error)", file: file, line: line)
        }
    }

    /// Opening the file must fail with a message naming the file and the problem.
    func assertInvalid(_ url: URL, _ fragments: String..., file: StaticString = #filePath, line: UInt = #line) {
        assertWeightsError([url.lastPathComponent] + fragments, file: file, line: line) {
            _ = try SafetensorsFile(url: url)
        }
    }
}

func rawSafetensors(header: [UInt8], data: [UInt8], headerLength: UInt64? = nil) -> [UInt8] {
    var out: [UInt8] = []
    var n = (headerLength ?? UInt64(header.count)).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    return out + header + data
}

func f32Bytes(_ values: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    for v in values {
        var b = v.bitPattern.littleEndian
        withUnsafeBytes(of: &b) { out.append(contentsOf: $0) }
    }
    return out
}

