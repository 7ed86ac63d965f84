import Foundation
import NIOCore
@testable import PhiServer
import XCTest

final class MultipartFormTests: XCTestCase {
    private func form(_ text: [UInt8], boundary: String = "X") throws -> MultipartForm {
        try MultipartForm(body: ByteBuffer(bytes: text), contentType: "multipart/form-data; boundary=\(boundary)")
    }

    /// tools/fuzz/regressions/http/multipart_nonascii_header_name.bin: a part header name with a byte >= 0x80
    /// trapped inside MultipartKit (a crash of the whole server); now it is a client error.
    func testNonASCIIHeaderNameIsAnErrorNotATrap() throws {
        let body: [UInt8] = Array("\n--X\r\n".utf8) + [0xE7] + Array(": a\r\n\r\nv\r\n--X--\r\n".utf8)
        XCTAssertThrowsError(try form(body)) { error in
            XCTAssertTrue("\(error)".contains("not ASCII"), "\(error)")
        }
    }

    /// tools/fuzz/regressions/http/multipart_midline_delimiter.bin: MultipartKit's preamble takes the first
    /// `--boundary` even in the middle of a line, so the header names after it must be checked too.
    func testNonASCIIHeaderNameAfterAMidLineDelimiterIsAnError() throws {
        let body: [UInt8] = Array("preamble --X\r\nContent-Di".utf8) + [0x8E, 0x00]
            + Array("sposition: form-data; name=\"m\"\r\n\r\nv\r\n--X--\r\n".utf8)
        XCTAssertThrowsError(try form(body)) { error in
            XCTAssertTrue("\(error)".contains("not ASCII"), "\(error)")
        }
    }

    /// Non-ASCII bytes elsewhere (header values, file contents) are fine.
    func testNonASCIIOutsideHeaderNamesParses() throws {
        let body: [UInt8] = Array("--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"é.wav\"\r\n\r\n".utf8)
            + [0xE7, 0xFF, 0x00, 0x3A] + Array("\r\n--X\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nphi\r\n--X--\r\n".utf8)
        let f = try form(body)
        XCTAssertEqual(f.file("file").map { Array($0.data) }, [0xE7, 0xFF, 0x00, 0x3A])
        XCTAssertEqual(f.file("file")?.filename, "é.wav")
        XCTAssertEqual(f.text("model"), "phi")
    }
}
