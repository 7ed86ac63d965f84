import Foundation

/// Reads standard input line by line, keeping at most `limit` bytes of a line. A longer line is read to its end
/// but not stored, so one huge line costs `limit` bytes of memory rather than its own size (issue 10: a 114 MB
/// chat line cost 1.6 GB; `readLine` holds the whole line before anything can look at its length).
struct LineReader {
    enum Line: Equatable {
        /// The line without its "\n" or "\r\n" (invalid UTF-8 repaired, as `readLine` does).
        case text(String)
        /// A line longer than the limit, with its length in bytes (without the line end).
        case tooLong(bytes: Int)
    }

    let fileDescriptor: Int32
    let limit: Int
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0, end = 0
    private var atEnd = false

    init(fileDescriptor: Int32 = STDIN_FILENO, limit: Int) {
        self.fileDescriptor = fileDescriptor
        self.limit = limit
    }

    /// The next line, or nil at the end of the input (or on a read error).
    mutating func next() -> Line? {
        var line: [UInt8] = []
        var length = 0          // bytes of the line so far, stored or not
        var last: UInt8?        // its last byte
        var sawAny = false
        while true {
            if start == end {
                guard !atEnd, refill() else { break }
            }
            sawAny = true
            let chunk = buffer[start..<end]
            let newline = chunk.firstIndex(of: UInt8(ascii: "\n"))
            let stop = newline ?? end
            let piece = buffer[start..<stop]
            if length + piece.count <= limit + 1 { line += piece }   // one byte more than allowed keeps a trailing \r
            length += piece.count
            last = piece.last ?? last
            start = newline.map { $0 + 1 } ?? end
            if newline != nil { return finish(line, length, last) }
        }
        return sawAny ? finish(line, length, last) : nil
    }

    private func finish(_ bytes: [UInt8], _ length: Int, _ last: UInt8?) -> Line {
        var bytes = bytes, length = length
        if last == UInt8(ascii: "\r") {
            if bytes.count == length { bytes.removeLast() }
            length -= 1
        }
        guard length <= limit else { return .tooLong(bytes: length) }
        return .text(String(decoding: bytes, as: UTF8.self))
    }

    /// Reads the next block of input; false at the end or on an error.
    private mutating func refill() -> Bool {
        let n = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return refill() }
        guard n > 0 else { atEnd = true; return false }
        start = 0
        end = n
        return true
    }
}
