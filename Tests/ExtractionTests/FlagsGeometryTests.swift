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

    /// The counting-sorted sparse map answers as a dense map does, with pixels listed in any order
    /// and rows short (insertion sort) and long (over 32 entries: the packed sort).
    func testSparseSegmentationMatchesTheDenseMap() {
        for width in [37, 200] { checkSparseSegmentation(width: width, height: 23) }
    }

    private func checkSparseSegmentation(width: Int, height: Int) {
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
            sparse.forEachLabel(row: row, in: 5..<(width - 7)) { seen.append(($0, $1)) }
            let expected = (5..<(width - 7)).filter { owner[row * width + $0] != 0 }
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
        let groups = pixels.detectionGroups(segmentation: sparse) { $0 < 2 }
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
            let neighbourhood = SExtractorFlags.Neighbourhood(
                pixels: ObjectPixels(starts: [0], indices: []), image: image, deblended: { _ in false })
            XCTAssertEqual((0..<height).map(neighbourhood.rowHasBadPixels), expected)
        }
    }

    /// A random label map: about a third of the pixels owned, by labels 1...objects.
    private func randomLayout(width: Int, height: Int, objects: Int) -> (owner: [Int32], pixels: ObjectPixels) {
        var owner = [Int32](repeating: 0, count: width * height)
        // Small blobs, so that some objects stand alone and some touch.
        for object in 1...objects {
            let cx = Int.random(in: 0..<width), cy = Int.random(in: 0..<height), r = Int.random(in: 0...2)
            for y in max(cy - r, 0)...min(cy + r, height - 1) {
                for x in max(cx - r, 0)...min(cx + r, width - 1) where Bool.random() || r == 0 { owner[y * width + x] = Int32(object) }
            }
        }
        var starts = [0], indices = [Int32]()
        for object in 1...objects {
            indices += owner.indices.filter { owner[$0] == Int32(object) }.shuffled().map(Int32.init)
            starts.append(indices.count)
        }
        return (owner, ObjectPixels(starts: starts, indices: indices))
    }

    /// The linear sweep's groups equal a union of every touching pair found pixel by pixel on
    /// the dense map (pairs with a deblended side only).
    func testDetectionGroupsEqualAPixelByPixelUnion() {
        for _ in 0..<200 {
            let width = Int.random(in: 3...40), height = Int.random(in: 3...30), objects = Int.random(in: 1...25)
            let (owner, pixels) = randomLayout(width: width, height: height, objects: objects)
            let deblended = (0..<objects).map { _ in Bool.random() }
            let groups = pixels.detectionGroups(segmentation: SparseSegmentation(pixels, width: width, height: height)) { deblended[$0] }
            var parent = Array(0..<objects)
            func root(_ i: Int) -> Int { parent[i] == i ? i : root(parent[i]) }
            for y in 0..<height {
                for x in 0..<width where owner[y * width + x] != 0 {
                    let a = Int(owner[y * width + x]) - 1
                    for (dx, dy) in [(1, 0), (-1, 1), (0, 1), (1, 1)] where x + dx >= 0 && x + dx < width && y + dy < height {
                        let b = Int(owner[(y + dy) * width + x + dx]) - 1
                        if b >= 0, b != a, deblended[a] || deblended[b] { parent[root(a)] = root(b) }
                    }
                }
            }
            for i in 0..<objects {
                for j in 0..<objects { XCTAssertEqual(groups[i] == groups[j], root(i) == root(j), "objects \(i), \(j)") }
            }
        }
    }

    /// The grid's answer is never "no foreign pixel" where the dense map has one, and it does say
    /// so for many boxes (else the shortcut would never be taken).
    func testTheGridNeverMissesAForeignPixel() throws {
        var skipped = 0, boxes = 0
        for _ in 0..<100 {
            let width = Int.random(in: 8...90), height = Int.random(in: 8...70), objects = Int.random(in: 1...30)
            let (owner, pixels) = randomLayout(width: width, height: height, objects: objects)
            var values = [Float](repeating: 1, count: width * height)
            if Bool.random() { values[Int.random(in: values.indices)] = .nan }
            let image = try SkyImage(width: width, height: height, pixels: values)
            let deblended = (0..<objects).map { _ in Bool.random() }
            let neighbourhood = SExtractorFlags.Neighbourhood(pixels: pixels, image: image) { deblended[$0] }
            for _ in 0..<50 {
                let x0 = Int.random(in: 0..<width), y0 = Int.random(in: 0..<height)
                let x = x0..<Int.random(in: (x0 + 1)...min(x0 + 20, width)), y = y0..<Int.random(in: (y0 + 1)...min(y0 + 20, height))
                let ownerLabel = Int32.random(in: 1...Int32(objects))
                let foreign = y.contains { row in
                    x.contains { column in
                        let index = row * width + column
                        return values[index].isNaN || neighbourhood.isForeign(label: owner[index], to: ownerLabel)
                    }
                }
                let may = neighbourhood.mayHaveForeignPixels(x: x, y: y, owner: ownerLabel)
                if foreign { XCTAssertTrue(may, "box \(x) x \(y) of object \(ownerLabel)") }
                if !may { skipped += 1 }
                boxes += 1
            }
        }
        XCTAssertGreaterThan(skipped, boxes / 10, "the grid rules boxes out")
    }
}
