import Foundation
import MultipartKit
import NIOCore

/// A multipart/form-data body parsed with MultipartKit into named fields (last one wins) and files.
struct MultipartForm {
    struct Field {
        var filename: String?
        var data: Data
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    private(set) var fields: [String: [Field]] = [:]

    init(body: ByteBuffer, contentType: String?) throws {
        guard let ct = contentType, ct.lowercased().hasPrefix("multipart/form-data") else {
            throw APIError.invalid("send the audio as multipart/form-data (Content-Type: multipart/form-data; boundary=…)")
        }
        guard let boundary = Self.boundary(ct) else { throw APIError.invalid("the multipart Content-Type has no boundary") }
        // A body cut short never reaches its closing delimiter; MultipartKit's parser would just stop.
        let tail = String(decoding: body.getBytes(at: body.readerIndex + max(0, body.readableBytes - boundary.utf8.count - 8),
                                                  length: min(body.readableBytes, boundary.utf8.count + 8)) ?? [], as: UTF8.self)
        guard tail.contains("--\(boundary)--") else { throw APIError.invalid("the multipart body is truncated (no closing boundary)") }
        guard Self.headerNamesAreASCII(body, boundary: boundary) else {
            throw APIError.invalid("the multipart body is malformed (the boundary outside a delimiter, or a part header name that is not ASCII)")
        }
        let parser = MultipartParser(boundary: boundary)
        var headers: [(String, String)] = []
        var data = Data()
        var parts: [(headers: [(String, String)], data: Data)] = []
        parser.onHeader = { headers.append(($0, $1)) }
        parser.onBody = { buffer in data.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            parts.append((headers, data))
            headers = []
            data = Data()
        }
        do {
            try parser.execute(body)
        } catch {
            throw APIError.invalid("the multipart body is malformed (\(error))")
        }
        for p in parts {
            guard let disposition = p.headers.first(where: { $0.0.lowercased() == "content-disposition" })?.1,
                  let name = Self.attribute("name", in: disposition) else { continue }
            fields[name, default: []].append(Field(filename: Self.attribute("filename", in: disposition), data: p.data))
        }
    }

    /// MultipartKit 4.7.1 looks every byte of a part's header name up in a 128-entry table, so a byte of 0x80 or
    /// more traps the process (found by tools/fuzz's `http` target), and its delimiter matching is loose (a
    /// `-boundary` mid-line, or one after `\n\r-x`, also starts a header block). So the body is checked first, in
    /// the strict form every client sends: the boundary may stand only in delimiters (`--boundary` at the start of
    /// the body or after CRLF), and the header names after each delimiter must be ASCII (RFC 7230 tokens). Any
    /// place the loose matcher could end a delimiter holds the whole boundary, so nothing else reaches its tables.
    static func headerNamesAreASCII(_ body: ByteBuffer, boundary: String) -> Bool {
        let mark = Array(boundary.utf8)
        let dash = UInt8(ascii: "-"), cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        return body.withUnsafeReadableBytes { raw -> Bool in
            let b = raw.bindMemory(to: UInt8.self)
            let n = b.count
            var i = 0
            while i + mark.count <= n {
                guard b[i] == mark[0], (0..<mark.count).allSatisfy({ b[i + $0] == mark[$0] }) else { i += 1; continue }
                // The boundary must follow "--" at the body's start or after CRLF.
                guard i >= 2, b[i - 1] == dash, b[i - 2] == dash,
                      i == 2 || (i >= 4 && b[i - 3] == lf && b[i - 4] == cr) else { return false }
                i += mark.count
                if i + 1 < n, b[i] == dash, b[i + 1] == dash { continue }  // a closing delimiter
                while i < n, b[i] != lf { i += 1 }  // the rest of the delimiter line
                i += 1
                // Header lines up to the empty one, ended by CR as MultipartKit reads them (a bare LF stays inside
                // a value): the bytes before each line's colon.
                while i < n, b[i] != cr {
                    while i < n, b[i] != UInt8(ascii: ":"), b[i] != cr {
                        if b[i] >= 0x80 { return false }
                        i += 1
                    }
                    while i < n, b[i] != cr { i += 1 }
                    i += 2  // CR LF
                }
            }
            return true
        }
    }

    func text(_ name: String) -> String? { fields[name]?.last?.text }

    /// Every value of a repeated field, under any of the names given (e.g. `x` and `x[]`).
    func values(_ names: String...) -> [String] { names.flatMap { fields[$0]?.map(\.text) ?? [] } }

    func file(_ name: String) -> Field? { fields[name]?.last }

    static func boundary(_ contentType: String) -> String? {
        attribute("boundary", in: contentType).flatMap { $0.isEmpty || $0.utf8.count > 200 ? nil : $0 }
    }

    /// `key=value` or `key="value"` inside a header value.
    static func attribute(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let kv = piece.trimmingCharacters(in: .whitespaces)
            guard kv.lowercased().hasPrefix(key + "=") else { continue }
            var v = String(kv.dropFirst(key.count + 1))
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }
}
