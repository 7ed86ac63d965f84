// Everything that differs between Linux and macOS lives in this file.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public enum Platform {
    /// Number of CPU cores available to this process.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Resident set size of this process in bytes (best effort; 0 when unknown).
    public static func residentBytes() -> Int {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let parts = text.split(separator: " ")
        guard parts.count > 1, let pages = Int(parts[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        var info = mach_task_basic_info()
        var count = mach_msg_type_number_t(MemoryLayout<mach_task_basic_info>.size / MemoryLayout<natural_t>.size)
        let kr = withUnsafeMutablePointer(to: &info) {
            $0.withMemoryRebound(to: integer_t.self, capacity: Int(count)) {
                task_info(mach_task_self_, task_flavor_t(MACH_TASK_BASIC_INFO), $0, &count)
            }
        }
        return kr == KERN_SUCCESS ? Int(info.resident_size) : 0
        #endif
    }

    /// Returns the free blocks of every malloc arena to the system (glibc keeps memory that finished requests
    /// freed, so a server's resident size would stay at its busiest level); false where there is no such call.
    @discardableResult
    public static func releaseFreedMemory() -> Bool {
        #if canImport(Glibc)
        guard let trim = mallocTrim else { return false }
        _ = trim(0)
        return true
        #else
        return false
        #endif
    }

    #if canImport(Glibc)
    /// glibc's `malloc_trim`, looked up at run time (Swift's Glibc module does not export malloc.h).
    nonisolated(unsafe) private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
    #endif

    /// Resident memory split into anonymous (heap: caches, scratch) and file-backed (memory-mapped weights,
    /// shared with the page cache) bytes. Linux only; (0, 0) elsewhere.
    public static func residentBreakdown() -> (anonymous: Int, file: Int) {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        var anon = 0, file = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
            if parts[0] == "RssAnon:" { anon = kb * 1024 }
            if parts[0] == "RssFile:" { file = kb * 1024 }
        }
        return (anon, file)
        #else
        return (0, 0)
        #endif
    }

    /// Starts a named thread (for work that outlives the call that starts it).
    public static func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { body() }
        thread.name = name
        thread.start()
    }

    /// Memory for large weight buffers: anonymous pages, backed by 2 MiB huge pages where the OS allows
    /// (fewer page faults while filling them at load, fewer TLB misses while streaming them per token).
    /// Release with `deallocateLarge(_:byteCount:)`. Returns nil when the OS refuses.
    public static func allocateLarge(byteCount: Int) -> UnsafeMutableRawPointer? {
        let size = max(byteCount, 1)
        #if os(Linux)
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { return nil }
        _ = madvise(p, size, MADV_HUGEPAGE)
        return p
        #else
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0)
        guard let p, p != MAP_FAILED else { return nil }
        return p
        #endif
    }

    public static func deallocateLarge(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        munmap(pointer, max(byteCount, 1))
    }

    /// User + system CPU seconds this process has used (all threads).
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// Peak resident set size of this process in bytes (best effort).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }
}

public enum MappedFileError: Error, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case cannotMap(path: String, reason: String)
    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): return "cannot open \(p): \(r)"
        case .cannotMap(let p, let r): return "cannot memory-map \(p): \(r)"
        }
    }
}

/// A read-only memory mapping of a whole file. Pages are loaded lazily by the OS and shared
/// with the page cache, so a mapped model costs no second copy of its weights.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let byteCount: Int
    public let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd: Int32, size: Int
        do throws(SafeFileError) {
            (fd, size) = try SafeFile.openRegular(path)
        } catch {
            throw MappedFileError.cannotOpen(path: path, reason: error.reason)
        }
        defer { close(fd) }
        byteCount = size
        if size == 0 { base = nil; return }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw MappedFileError.cannotMap(path: path, reason: String(cString: strerror(errno))) }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
    }

    /// Tells the OS this process no longer needs the pages under [pointer, pointer+count) of the mapping
    /// (after a weight was repacked into its own buffer): they leave the resident set but stay in the page
    /// cache. Only whole pages inside the range are released; reads afterwards would fault them back in.
    public func release(_ pointer: UnsafeRawPointer, count: Int) {
        guard let base, count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = Int(bitPattern: pointer), hi = lo + count
        let start = (lo + page - 1) / page * page, end = hi / page * page
        guard start >= Int(bitPattern: base), end <= Int(bitPattern: base) + byteCount, end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
    }

    /// Bytes [offset, offset+count) as a buffer; the caller has validated the range.
    public func bytes(offset: Int, count: Int) -> UnsafeRawBufferPointer {
        guard let base, count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }
}
