import Foundation
import PhiKit
@testable import PhiServer
import XCTest

final class IdleMemoryTrimmerTests: XCTestCase {
    /// On Linux (glibc) the server finds `malloc_trim` at run time; without it an idle server keeps the memory of
    /// its busiest moment (tools/server/load_test.py checks the effect on RSS).
    func testMallocTrimIsFoundOnLinux() throws {
        #if os(Linux)
        XCTAssertTrue(Platform.releaseFreedMemory())
        #else
        throw XCTSkip("malloc_trim is glibc's")
        #endif
    }
}
