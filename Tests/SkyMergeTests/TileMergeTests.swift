import HEALPix
import SkyMerge
import XCTest

final class TileMergeTests: XCTestCase {
    let arcsec = 1.0 / 3600

    func detection(_ ra: Double, _ dec: Double, _ frame: String, _ distance: Double, row: Int = 0) -> Detection {
        Detection(ra: ra, dec: dec, frame: frame, distanceToFrameCenter: distance, row: row)
    }

    func testOneSourceInThreeFramesIsOneRowTheMostCentralDetection() throws {
        let merge = try TileMerge(sky: HEALPix(order: 10), matchRadius: arcsec)
        let tile = merge.sky.pixel(ra: 150, dec: 2)
        let centre = merge.sky.center(of: tile)
        let seen = [
            detection(centre.ra, centre.dec, "frame-a", 900, row: 4),
            detection(centre.ra + 0.3 * arcsec, centre.dec, "frame-b", 120, row: 17),
            detection(centre.ra, centre.dec - 0.4 * arcsec, "frame-c", 450, row: 2),
            // Another star 6" away, and a close pair inside one frame: three more sources.
            detection(centre.ra, centre.dec + 6 * arcsec, "frame-a", 905, row: 5),
            detection(centre.ra + 10 * arcsec, centre.dec, "frame-b", 300, row: 18),
            detection(centre.ra + 10.5 * arcsec, centre.dec, "frame-b", 301, row: 19),
        ]
        let merged = merge.merge(tile: tile, detections: seen)
        XCTAssertEqual(merged.count, 4)
        XCTAssertEqual(merged[0].primary, seen[1], "the detection nearest its own frame's centre")
        XCTAssertEqual(merged[0].detectionCount, 3)
        XCTAssertEqual(merged[0].tile, tile)
        XCTAssertEqual(merged.dropFirst().map(\.detectionCount), [1, 1, 1])
        XCTAssertEqual(Set(merged.map(\.primary.row)), [17, 18, 19, 5])
        XCTAssertEqual(merge.merge(tile: tile, detections: seen.reversed()), merged, "input order does not matter")
        XCTAssertEqual(merge.merge(tile: tile + 1, detections: seen), [], "another tile owns none of them")
        XCTAssertThrowsError(try TileMerge(sky: HEALPix(order: 14), matchRadius: 4 * arcsec)) { error in
            XCTAssertTrue("\(error)".contains("choose a lower order"), "\(error)")
        }
    }

    func testASourceAcrossRAZeroAndOneAtThePoleAreOneRowEach() throws {
        let merge = try TileMerge(sky: HEALPix(order: 12), matchRadius: arcsec)
        for seen in [[detection(359.99995, 10, "a", 5), detection(0.00005, 10, "b", 3)],
                     [detection(10, 89.99999, "a", 1), detection(190, 89.99999, "b", 2)]] {
            var byTile: [Int64: [Detection]] = [:]
            for item in seen { for tile in merge.tiles(for: item) { byTile[tile, default: []].append(item) } }
            let merged = byTile.flatMap { merge.merge(tile: $0.key, detections: $0.value) }
            XCTAssertEqual(merged.map(\.detectionCount), [2], "\(seen)")
            XCTAssertEqual(merged.first?.primary, seen.min { $0.distanceToFrameCenter < $1.distanceToFrameCenter })
        }
    }

    /// A truth sky with sources exactly on tile edges and corners, seen in up to three
    /// overlapping frames with 0.35" of scatter: after the margin fan-out and the per-tile
    /// merge, every source is one row, in one tile, with its NDETECT and the primary rule's pick.
    func testSourcesOnTileEdgesAndCornersAppearExactlyOnce() throws {
        let sky = try HEALPix(order: 11)
        let merge = try TileMerge(sky: sky, matchRadius: arcsec)
        var random = SeededRandom(state: 42)
        let truth = makeTruth(sky: sky, random: &random)
        let frames = [("f0", (150.00, 2.00)), ("f1", (150.03, 2.01)), ("f2", (149.98, 2.03))]

        var detections: [(source: Int, detection: Detection)] = []
        for (source, position) in truth.positions.enumerated() {
            for (index, frame) in frames.enumerated() where index == 0 || Double.random(in: 0..<1, using: &random) < 0.8 {
                let scatter = SkyGeometry.offset(ra: position.ra, dec: position.dec,
                                                 distance: Double.random(in: 0...0.35, using: &random) * arcsec,
                                                 bearing: Double.random(in: 0..<360, using: &random))
                let distance = SkyGeometry.separation(ra1: scatter.ra, dec1: scatter.dec, ra2: frame.1.0, dec2: frame.1.1)
                detections.append((source, detection(scatter.ra, scatter.dec, frame.0, distance, row: source)))
            }
        }
        var byTile: [Int64: [Detection]] = [:]
        for item in detections {
            for tile in merge.tiles(for: item.detection) { byTile[tile, default: []].append(item.detection) }
        }
        let merged = byTile.keys.sorted().flatMap { merge.merge(tile: $0, detections: byTile[$0]!) }

        XCTAssertEqual(merged.count, truth.positions.count, "one row per truth source")
        let rows = Dictionary(grouping: merged, by: \.primary.row)
        for (source, _) in truth.positions.enumerated() {
            let own = detections.filter { $0.source == source }.map(\.detection)
            guard let row = rows[source], row.count == 1 else {
                XCTFail("source \(source) has \(rows[source]?.count ?? 0) rows"); continue
            }
            XCTAssertEqual(row[0].detectionCount, own.count, "NDETECT of source \(source)")
            XCTAssertEqual(row[0].primary, own.min { $0.distanceToFrameCenter < $1.distanceToFrameCenter })
            XCTAssertEqual(row[0].tile, sky.pixel(ra: row[0].primary.ra, dec: row[0].primary.dec))
        }
        // The test measures edge handling: many sources' detections straddle tiles, and merging
        // each tile's own detections without the margin would get them wrong.
        let straddling = truth.positions.indices.filter { source in
            Set(detections.filter { $0.source == source }.map { sky.pixel(ra: $0.detection.ra, dec: $0.detection.dec) }).count > 1
        }
        XCTAssertGreaterThan(straddling.count, truth.onEdges / 2, "edge and corner sources straddle tiles")
        var ownOnly: [Int64: [Detection]] = [:]
        for item in detections { ownOnly[sky.pixel(ra: item.detection.ra, dec: item.detection.dec), default: []].append(item.detection) }
        let naive = ownOnly.keys.flatMap { merge.merge(tile: $0, detections: ownOnly[$0]!) }
        XCTAssertGreaterThan(naive.count, truth.positions.count, "without the margin, straddling sources split")
        print("sky merge: \(truth.positions.count) sources (\(truth.onEdges) on edges or corners), "
              + "\(detections.count) detections, \(straddling.count) straddling tiles; "
              + "merged rows \(merged.count), without margins \(naive.count)")
    }

    /// Sources on corners (centres of order-10 pixels are corners of order-11 tiles), on edges
    /// (found by bisection between neighbouring tiles) and inside tiles, at least 5" apart.
    private func makeTruth(sky: HEALPix, random: inout SeededRandom) -> (positions: [(ra: Double, dec: Double)], onEdges: Int) {
        let parent = try! HEALPix(order: sky.order - 1)
        var special: [(ra: Double, dec: Double)] = []
        var interior: [(ra: Double, dec: Double)] = []
        for _ in 0..<60 {
            let ra = Double.random(in: 149.95...150.05, using: &random), dec = Double.random(in: 1.95...2.05, using: &random)
            special.append(parent.center(of: parent.pixel(ra: ra, dec: dec)))
            special.append(edgePoint(sky: sky, from: (ra, dec), bearing: Double.random(in: 0..<360, using: &random)))
            interior.append((ra, dec))
        }
        var kept: [(ra: Double, dec: Double)] = []
        var onEdges = 0
        for (index, point) in (special + interior).enumerated()
        where kept.allSatisfy({ SkyGeometry.separation(ra1: $0.ra, dec1: $0.dec, ra2: point.ra, dec2: point.dec) > 5 * arcsec }) {
            kept.append(point)
            if index < special.count { onEdges += 1 }
        }
        return (kept, onEdges)
    }

    /// Walks from `start` toward `bearing` until the tile changes, then bisects to the edge.
    private func edgePoint(sky: HEALPix, from start: (Double, Double), bearing: Double) -> (ra: Double, dec: Double) {
        let tile = sky.pixel(ra: start.0, dec: start.1)
        var inside = 0.0, outside = sky.resolution / 8
        while sky.pixel(ra: SkyGeometry.offset(ra: start.0, dec: start.1, distance: outside, bearing: bearing).ra,
                        dec: SkyGeometry.offset(ra: start.0, dec: start.1, distance: outside, bearing: bearing).dec) == tile {
            inside = outside
            outside += sky.resolution / 8
        }
        for _ in 0..<60 {
            let middle = (inside + outside) / 2
            let point = SkyGeometry.offset(ra: start.0, dec: start.1, distance: middle, bearing: bearing)
            if sky.pixel(ra: point.ra, dec: point.dec) == tile { inside = middle } else { outside = middle }
        }
        return SkyGeometry.offset(ra: start.0, dec: start.1, distance: inside, bearing: bearing)
    }
}
