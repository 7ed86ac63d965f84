import Foundation
import XCTest
@testable import PhiMedia

final class ImageProcessorTests: XCTestCase {
    let processor = Phi4MMImageProcessor()

    /// Reference §4 worked examples.
    func testWorkedExampleTokenCounts() throws {
        XCTAssertEqual(try processor.tokenCount(width: 448, height: 448), 545)
        XCTAssertEqual(try processor.tokenCount(width: 1024, height: 768), 1681)
        XCTAssertEqual(try processor.tokenCount(width: 640, height: 480), 1065)
        XCTAssertEqual(try processor.tokenCount(width: 1920, height: 1080), 3918)
        XCTAssertEqual(try processor.tokenCount(width: 4000, height: 3000), 3393)
        let p = try processor.plan(width: 1024, height: 768)
        XCTAssertEqual([p.columns, p.rows, p.resizedWidth, p.resizedHeight, p.padWidth, p.maskedColumns],
                       [3, 2, 1194, 896, 150, 10])
        XCTAssertEqual([p.validRows, p.validColumns], [32, 43])
        let big = try processor.plan(width: 4000, height: 3000)
        XCTAssertEqual([big.columns, big.rows, big.padWidth, big.padHeight], [4, 3, 0, 0])
        let square = try processor.plan(width: 5000, height: 5000)
        XCTAssertEqual([square.columns, square.rows], [6, 6]) // exact-tie rule: largest grid passing the area test
    }

    /// Grid and token count for ~600 sizes against the original Python (CPython set order, int() truncation, the
    /// "< 10 pixels" error).
    func testTokenSweepMatchesOriginal() throws {
        let sweep = try ImageFixtures.manifest().tokenSweep
        XCTAssertGreaterThan(sweep.count, 500)
        var errors = 0
        for row in sweep {
            let (w, h, cols, rows, tokens) = (row[0], row[1], row[2], row[3], row[4])
            let grid = Phi4MMImageGrid.grid(width: w, height: h, maxNum: 36, cropSize: 448)
            XCTAssertEqual(grid.columns, cols, "\(w)x\(h)")
            XCTAssertEqual(grid.rows, rows, "\(w)x\(h)")
            if tokens < 0 {
                errors += 1
                XCTAssertThrowsError(try processor.tokenCount(width: w, height: h), "\(w)x\(h)") { error in
                    guard case ImageError.extremeAspectRatio = error else { return XCTFail("\(error)") }
                }
            } else {
                XCTAssertEqual(try processor.tokenCount(width: w, height: h), tokens, "\(w)x\(h)")
            }
        }
        XCTAssertGreaterThan(errors, 10)
    }

    func testCandidateOrder() {
        let order = Phi4MMImageGrid.candidates(maxNum: 36)
        XCTAssertEqual(order.count, 140)
        XCTAssertEqual(Set(order.map { $0.0 * 100 + $0.1 }).count, 140)
        XCTAssertTrue(zip(order, order.dropFirst()).allSatisfy { $0.0 * $0.1 <= $1.0 * $1.1 })
        // The generic order covers the same pairs.
        let generic = Phi4MMImageGrid.candidates(maxNum: 35) + [(36, 1), (1, 36), (2, 18), (18, 2), (3, 12),
                                                                 (12, 3), (4, 9), (9, 4), (6, 6)]
        XCTAssertEqual(Set(generic.map { $0.0 * 100 + $0.1 }), Set(order.map { $0.0 * 100 + $0.1 }))
    }

    func testInvalidInputs() {
        XCTAssertThrowsError(try processor.tokenCount(width: 0, height: 10))
        XCTAssertThrowsError(try processor.tokenCount(width: 10, height: -1))
        XCTAssertThrowsError(try processor.tokenCount(width: 1000, height: 5)) // resized height 6 < 10
        XCTAssertThrowsError(try Phi4MMImageProcessor(dynamicHD: 0).tokenCount(width: 448, height: 448))
        XCTAssertThrowsError(try Phi4MMImageProcessor(dynamicHD: 100_000).tokenCount(width: 448, height: 448))
        XCTAssertEqual(try Phi4MMImageProcessor(dynamicHD: 4).plan(width: 4000, height: 3000).columns, 2)
    }

    /// The whole pipeline against the original processor on every fixture image: the HD uint8 image (Pillow
    /// bilinear) exactly, the crops exactly, masks exactly, the bicubic global view to 1e-5.
    func testProcessingMatchesOriginal() throws {
        let manifest = try ImageFixtures.manifest()
        let lut = Phi4MMImageProcessor.normalizeTable
        var worstGlobal: Float = 0
        for entry in manifest.processing {
            let image = try ImageDecoder.decode(contentsOf: ImageFixtures.input(entry.file))
            let plan = try processor.plan(width: image.width, height: image.height)
            let hd = processor.hdImage(image, plan: plan)
            if let hdName = entry.hd_png {
                let expected = try ImageDecoder.decode(contentsOf: ImageFixtures.directory.appendingPathComponent("hd/\(hdName)"))
                XCTAssertEqual(maxLevelDifference(hd, expected.pixels), 0, "\(entry.file): HD image differs from Pillow")
            }
            XCTAssertEqual(FixtureChecksum.hex(hd), entry.hd_checksum, "\(entry.file): HD image differs from Pillow")

            let input = try processor.process(image)
            XCTAssertEqual(input.columns, entry.columns, entry.file)
            XCTAssertEqual(input.rows, entry.rows, entry.file)
            XCTAssertEqual(input.tokenCount, entry.tokenCount, entry.file)
            XCTAssertEqual([input.imageSize.height, input.imageSize.width], entry.imageSize, entry.file)
            XCTAssertEqual(input.cropCount, 1 + entry.columns * entry.rows)
            XCTAssertEqual(input.pixelValues.count, input.cropCount * 3 * 448 * 448)
            XCTAssertEqual(FixtureChecksum.hex(input.patchMask), entry.mask_checksum, "\(entry.file): patch mask")
            XCTAssertEqual(input.tokenCount, 256 + 16 + 1 + input.validRows * input.validColumns + input.validRows)

            // Crops: exactly the normalized HD image, row-major.
            let tw = entry.columns * 448
            var cropMismatches = 0
            input.pixelValues.withUnsafeBufferPointer { pv in
                hd.withUnsafeBufferPointer { hd in
                    for r in 0..<entry.rows {
                        for c in 0..<entry.columns {
                            let base = (1 + r * entry.columns + c) * 3 * 448 * 448
                            for ch in 0..<3 {
                                // Every 4th row of every crop and plane (all 448 columns): enough to catch any
                                // layout or value error while keeping the debug-build test quick.
                                for y in stride(from: (r + c + ch) % 4, to: 448, by: 4) {
                                    for x in 0..<448 {
                                        let v = pv[base + ch * 448 * 448 + y * 448 + x]
                                        let u = hd[((r * 448 + y) * tw + c * 448 + x) * 3 + ch]
                                        if v != lut[Int(u)] { cropMismatches += 1 }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(cropMismatches, 0, "\(entry.file): crop values")

            // Global view.
            var maxDiff: Float = 0
            for (i, index) in entry.global_indices.enumerated() {
                maxDiff = max(maxDiff, abs(input.pixelValues[index] - entry.global_values[i]))
            }
            worstGlobal = max(worstGlobal, maxDiff)
            XCTAssertLessThanOrEqual(maxDiff, 1e-5, "\(entry.file): global view")
            var sum = 0.0, absSum = 0.0
            input.pixelValues.withUnsafeBufferPointer { pv in
                for i in 0..<(3 * 448 * 448) {
                    sum += Double(pv[i])
                    absSum += Double(abs(pv[i]))
                }
            }
            XCTAssertEqual(sum, entry.global_sum, accuracy: 0.05, entry.file)
            XCTAssertEqual(absSum, entry.global_abs_sum, accuracy: 0.05, entry.file)
        }
        print("ImageProcessorTests: worst sampled global-view difference \(worstGlobal)")
    }

    func testMaskLayoutFor1024x768() throws {
        let pixels = [UInt8](repeating: 7, count: 1024 * 768 * 3)
        let input = try processor.process(RGBImage(width: 1024, height: 768, pixels: pixels))
        XCTAssertEqual(input.cropCount, 7)
        XCTAssertTrue(input.patchMask[0..<1024].allSatisfy { $0 == 1 }) // global
        // Last column of crops (c = 2): 96 - 10 = 86 valid patch columns overall, so columns 22...31 are masked.
        for crop in [3, 6] {
            let m = Array(input.patchMask[(crop * 1024)..<((crop + 1) * 1024)])
            XCTAssertEqual(m[0 * 32 + 21], 1)
            XCTAssertEqual(m[0 * 32 + 22], 0)
            XCTAssertEqual(m[31 * 32 + 31], 0)
        }
        XCTAssertEqual(input.patchMask.filter { $0 == 0 }.count, 2 * 32 * 10)
        // White padding normalizes to +1.
        XCTAssertEqual(input.pixelValues[3 * 3 * 448 * 448 + 447], 1.0)
        XCTAssertEqual(input.pixelValues[3 * 3 * 448 * 448], Phi4MMImageProcessor.normalizeTable[7])
    }

    func testResizeIdentityAndConstant() {
        let src = (0..<(5 * 4 * 3)).map { UInt8($0 * 3) }
        XCTAssertEqual(PillowBilinearResize.resize(src, width: 5, height: 4, toWidth: 5, height: 4), src)
        let flat = [UInt8](repeating: 200, count: 31 * 17 * 3)
        let out = PillowBilinearResize.resize(flat, width: 31, height: 17, toWidth: 12, height: 40)
        XCTAssertEqual(out.count, 12 * 40 * 3)
        XCTAssertTrue(out.allSatisfy { $0 == 200 })
    }
}
