import Engine
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
        let synthetic = SyntheticSky(sky: sky, seed: 42)
        let truth = synthetic.truth
        let detections = synthetic.detections
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

    /// The margin from unit vectors is the margin spherical trig gives (the same 24 samples on
    /// circumscribing polygons of one and two radii, computed the slow way), and holds every tile
    /// within 1.3 radii (densely sampled), near the equator, at high declination, across RA 0
    /// and at the poles. Deterministic positions: a 20x25 grid and the awkward ones.
    func testTheMarginHoldsEveryTileWithinTwoRadii() throws {
        let radius = 5 * arcsec
        let merge = try TileMerge(sky: HEALPix(order: 11), matchRadius: radius)
        var places: [(Double, Double)] = [(0.0001, 10), (359.9999, -45), (12, 90), (200, -90), (45, 41.8103)]
        for i in 0..<20 {
            for j in 0..<25 { places.append((Double(i) * 17.93 + 0.37, Double(j) * 7.19 - 86.3)) }
        }
        for (ra, dec) in places {
            let tiles = merge.tiles(for: detection(ra, dec, "f", 0))
            var slow: Set<Int64> = [merge.sky.pixel(ra: ra, dec: dec)]
            for (rings, points) in [(1.0, 8), (2.0, 16)] {
                for step in 0..<points {
                    let point = SkyGeometry.offset(ra: ra, dec: dec, distance: rings * radius / cos(.pi / Double(points)),
                                                   bearing: Double(step) * 360 / Double(points))
                    slow.insert(merge.sky.pixel(ra: point.ra, dec: point.dec))
                }
            }
            if abs(dec) < 90 { XCTAssertEqual(tiles, slow.sorted(), "(\(ra), \(dec))") }
            for fraction in [0.5, 1.0, 1.3] {
                for step in 0..<90 {
                    let point = SkyGeometry.offset(ra: ra, dec: dec, distance: fraction * radius, bearing: Double(step) * 4)
                    XCTAssertTrue(tiles.contains(merge.sky.pixel(ra: point.ra, dec: point.dec)),
                                  "(\(ra), \(dec)): tile of a point \(fraction) radii away toward \(step * 4) deg")
                }
            }
        }
    }

    /// A detection through the shuffle's binary form: every field exact, a third of its JSON.
    func testADetectionRoundTripsThroughItsBinaryForm() throws {
        let original = detection(359.99999999, -89.123456789, "12/3", 1234.5678, row: 987_654)
        let binary = original.shuffleBinary
        XCTAssertEqual(try Detection(shuffleBinary: binary), original)
        XCTAssertLessThan(binary.count * 3, try JSONEncoder().encode(original).count)
        XCTAssertThrowsError(try Detection(shuffleBinary: binary.dropLast()))
    }
}
