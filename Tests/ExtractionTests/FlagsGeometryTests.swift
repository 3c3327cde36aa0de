import XCTest
@testable import Extraction

/// FLAGS bit 1's geometry, made fast, against the pixel-by-pixel forms it replaced: the rows of
/// an ellipse, the row-sorted segmentation, and the detection groups.
final class FlagsGeometryTests: XCTestCase {
    /// Every row's run equals the set a pixel-by-pixel test of the whole bounding box finds,
    /// for thousands of random ellipses (thin, tilted, tiny, clipped by the bounds).
    func testEllipseRowsAreExactlyThePixelsThePixelTestFinds() {
        var generator = SystemRandomNumberGenerator()
        var rows = 0, nonEmpty = 0
        for _ in 0..<1500 {
            let a = Double.random(in: 0.3...12, using: &generator)
            let b = a * Double.random(in: 0.05...1, using: &generator)
            let theta = Double.random(in: -Double.pi / 2...Double.pi / 2, using: &generator)
            let (cxx, cyy, cxy) = SExtractorFlags.coefficients(a: a, b: b, theta: theta)
            let radius = [1, 2.5, 6, Double.random(in: 0.5...9, using: &generator)].randomElement(using: &generator)!
            let mx = Double.random(in: -5...60, using: &generator), my = Double.random(in: -5...60, using: &generator)
            let ellipse = EllipseRows(mx: mx, my: my, cxx: cxx, cyy: cyy, cxy: cxy, limit: radius * radius)
            let bounds = max(Int(mx) - 40, 0)..<min(Int(mx) + 40, 55)
            for y in max(Int(my) - 40, 0)..<min(Int(my) + 40, 55) {
                let expected = bounds.filter { ellipse.contains(x: $0, y: y) }
                let run = ellipse.columns(row: y, within: bounds)
                XCTAssertEqual(Array(run), expected, "a=\(a) b=\(b) theta=\(theta) r=\(radius) at (\(mx), \(my)) row \(y)")
                rows += 1
                if !expected.isEmpty { nonEmpty += 1 }
            }
        }
        XCTAssertGreaterThan(nonEmpty, rows / 20, "the ellipses cover rows")
    }

    func testEmptyBoundsGiveAnEmptyRun() {
        let ellipse = EllipseRows(mx: 5, my: 5, cxx: 1, cyy: 1, cxy: 0, limit: 4)
        XCTAssertTrue(ellipse.columns(row: 5, within: 3..<3).isEmpty)
        XCTAssertEqual(Array(ellipse.columns(row: 5, within: 0..<20)), [3, 4, 5, 6, 7])
        XCTAssertTrue(ellipse.columns(row: 9, within: 0..<20).isEmpty)
    }

    /// The counting-sorted sparse map answers as a dense map does, with pixels listed in any order.
    func testSparseSegmentationMatchesTheDenseMap() {
        let width = 37, height = 23
        var owner = [Int32](repeating: 0, count: width * height)
        for index in owner.indices where Int.random(in: 0..<3) == 0 { owner[index] = Int32.random(in: 1...9) }
        var starts = [0], indices = [Int32]()
        for object in 1...9 {
            indices += owner.indices.filter { owner[$0] == Int32(object) }.shuffled().map(Int32.init)
            starts.append(indices.count)
        }
        let pixels = ObjectPixels(starts: starts, indices: indices)
        let sparse = SparseSegmentation(pixels, width: width, height: height)
        XCTAssertEqual(owner.indices.map { sparse.label(at: $0) }, owner)
        XCTAssertEqual(pixels.segmentation(pixelCount: owner.count), owner)
        for row in 0..<height {
            var seen: [(Int, Int32)] = []
            sparse.forEachLabel(row: row, in: 5..<30) { seen.append(($0, $1)) }
            let expected = (5..<30).filter { owner[row * width + $0] != 0 }
            XCTAssertEqual(seen.map(\.0), expected)
            XCTAssertEqual(seen.map(\.1), expected.map { owner[row * width + $0] })
        }
    }

    /// Touching deblended pieces share a group; undeblended objects are groups of their own.
    func testDetectionGroupsJoinTouchingDeblendedPieces() {
        let width = 10, height = 4
        // Objects 1 and 2 touch diagonally (one split detection); object 3 stands alone.
        let layout: [(Int, [Int])] = [(0, [0, 1, 10]), (1, [21, 22]), (2, [8, 9, 19])]
        var starts = [0], indices = [Int32]()
        for (_, pixels) in layout {
            indices += pixels.map(Int32.init)
            starts.append(indices.count)
        }
        let pixels = ObjectPixels(starts: starts, indices: indices)
        let sparse = SparseSegmentation(pixels, width: width, height: height)
        let groups = pixels.detectionGroups(segmentation: sparse, width: width, height: height) { $0 < 2 }
        XCTAssertEqual(groups[0], groups[1])
        XCTAssertNotEqual(groups[0], groups[2])
    }

    /// Rows with a NaN, a -1e30 blank or a masked pixel are the ones whose pixels are read.
    func testRowsWithBadPixelsAreFound() throws {
        let width = 7, height = 5
        var pixels = [Float](repeating: 1, count: width * height)
        pixels[1 * width + 6] = .nan
        pixels[3 * width] = -1e31
        var mask = [UInt8](repeating: 0, count: width * height)
        mask[4 * width + 2] = 1
        for (mask, expected) in [(nil, [false, true, false, true, false]),
                                 (SkyImage.Mask.bytes(mask), [false, true, false, true, true]),
                                 (SkyImage.Mask.booleans(mask.map { $0 != 0 }), [false, true, false, true, true])] {
            let image = try SkyImage(width: width, height: height, pixels: pixels, mask: mask)
            let pieces = ObjectPixels(starts: [0], indices: [])
            let neighbourhood = SExtractorFlags.Neighbourhood(
                segmentation: SparseSegmentation(pieces, width: width, height: height), groups: [], image: image)
            XCTAssertEqual(neighbourhood.rowHasBadPixels, expected)
        }
    }
}
