#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why a file a user named could not be read.
public enum SafeFileError: Error, CustomStringConvertible, Equatable {
    /// open(2) or fstat(2) failed (missing file, no permission, …).
    case cannotOpen(path: String, reason: String)
    /// The path names a directory, FIFO, socket or device rather than a regular file.
    case notRegularFile(path: String, kind: String)
    /// The file is larger than the caller's limit (checked before reading).
    case tooLarge(path: String, bytes: Int, limit: Int)
    /// read(2) failed part-way.
    case readFailed(path: String, reason: String)

    /// The reason alone, for callers that wrap it in their own error naming the file.
    public var reason: String {
        switch self {
        case .cannotOpen(_, let r), .readFailed(_, let r): return r
        case .notRegularFile(_, let kind): return "not a regular file: it is \(kind)"
        case .tooLarge(_, let b, let l): return "the file is \(b) bytes, above the limit of \(l) bytes"
        }
    }

    public var path: String {
        switch self {
        case .cannotOpen(let p, _), .notRegularFile(let p, _), .tooLarge(let p, _, _), .readFailed(let p, _): return p
        }
    }

    public var description: String { "cannot read \(path): \(reason)" }
}

/// Opening files whose names come from users, model folders or requests.
///
/// A plain `open(O_RDONLY)` on a FIFO with no writer blocks forever, and `Data(contentsOf:)` on a FIFO, a device
/// such as /dev/zero or a huge file reads without bound (or fails with a misleading message). Every such file is
/// opened here instead: with `O_NONBLOCK` so the open itself cannot block, then `fstat` on the open descriptor (no
/// race between checking and opening) to accept only regular files, whose size is checked against the caller's
/// limit before a byte is read.
public enum SafeFile {
    /// Opens `path` read-only and returns the descriptor (blocking mode, close-on-exec) and the file's size;
    /// the caller closes it. Throws for anything but a regular file.
    public static func openRegular(_ path: String) throws(SafeFileError) -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoReason()) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = errnoReason()
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            throw .notRegularFile(path: path, kind: kindName(kind))
        }
        // Regular files never block; clearing O_NONBLOCK keeps later reads plain.
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(st.st_size))
    }

    /// Reads a whole regular file of at most `limit` bytes. The size is checked before reading, and reading stops
    /// past `limit` even if the file grows meanwhile.
    public static func read(_ url: URL, limit: Int) throws(SafeFileError) -> Data {
        try read(path: url.path, limit: limit)
    }

    public static func read(path: String, limit: Int) throws(SafeFileError) -> Data {
        let (fd, size) = try openRegular(path)
        defer { close(fd) }
        guard size <= limit else { throw .tooLarge(path: path, bytes: size, limit: limit) }
        var data = Data(count: size)
        var filled = 0
        var failure: SafeFileError?
        data.withUnsafeMutableBytes { (buf: UnsafeMutableRawBufferPointer) in
            guard let base = buf.baseAddress else { return }
            while filled < size {
                let n = sysRead(fd, base + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .readFailed(path: path, reason: errnoReason())
                    return
                }
                if n == 0 { break }  // truncated meanwhile: return what is there
                filled += n
            }
        }
        if let failure { throw failure }
        if filled < size { data.removeSubrange(filled..<size) }
        // A file that grew after fstat: accept the extra bytes only within the limit.
        var extra = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = extra.withUnsafeMutableBytes { sysRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .readFailed(path: path, reason: errnoReason())
            }
            if n == 0 { break }
            guard data.count + n <= limit else { throw .tooLarge(path: path, bytes: data.count + n, limit: limit) }
            data.append(contentsOf: extra[0..<n])
        }
        return data
    }

    /// The size of a regular file, or the error `openRegular` would give.
    public static func size(path: String) throws(SafeFileError) -> Int {
        let (fd, size) = try openRegular(path)
        close(fd)
        return size
    }

    private static func errnoReason() -> String {
        switch errno {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        default: return String(cString: strerror(errno))
        }
    }

    private static func kindName(_ kind: mode_t) -> String {
        switch kind {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a plain file"
        }
    }
}

/// `read(2)` (the name `read` inside `SafeFile` is its own method).
@inline(__always) private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, p, n)
    #else
    return Darwin.read(fd, p, n)
    #endif
}
