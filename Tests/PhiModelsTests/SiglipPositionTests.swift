import PhiModels
import XCTest

final class SiglipPositionTests: XCTestCase {
    /// The original's float32 torch.linspace buckets (checked in PyTorch 2.13 for n = 1 … 32): equal to
    /// ⌊32r/n⌋ except where the float rounding falls just below a boundary.
    func testPositionBucketsFollowTorchLinspace() {
        let offBoundary: [Int: [Int: Int]] = [20: [10: 15], 24: [3: 3, 6: 7, 9: 11]]
        for n in 1...32 {
            let b = SiglipVisionEncoder.positionBuckets(valid: n, side: 32)
            XCTAssertEqual(b.count, n)
            for r in 0..<n {
                XCTAssertEqual(b[r], offBoundary[n]?[r] ?? (32 * r) / n, "n=\(n) r=\(r)")
            }
        }
        XCTAssertEqual(SiglipVisionEncoder.positionBuckets(valid: 0, side: 32), [])
    }
}
