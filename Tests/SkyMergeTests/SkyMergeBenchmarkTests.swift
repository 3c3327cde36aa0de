import Engine
import Foundation
import HEALPix
import SkyMerge
import XCTest

/// The sky merge's cost against a baseline in the same run: the same detections read by a
/// narrow job with no shuffle. `scripts/bench/sky-merge` runs it large; the suite runs it small.
final class SkyMergeBenchmarkTests: XCTestCase {
    func testMergeJobAgainstAReadOnlyBaseline() throws {
        let sources = Int(ProcessInfo.processInfo.environment["SEXTANT_BENCH_SOURCES"] ?? "") ?? 2000
        let arcsec = 1.0 / 3600
        var random = SeededRandom(state: 2026)
        // Sources on a 6" grid, jittered by up to 1": never closer than 4", three detections each.
        let side = Int(Double(sources).squareRoot().rounded(.up))
        var inputs: [String] = []
        let encoder = JSONEncoder()
        for index in 0..<sources {
            let ra = 150 + Double(index % side) * 6 * arcsec + Double.random(in: -1...1, using: &random) * arcsec
            let dec = 2 + Double(index / side) * 6 * arcsec + Double.random(in: -1...1, using: &random) * arcsec
            for frame in 0..<3 {
                let seen = SkyGeometry.offset(ra: ra, dec: dec, distance: Double.random(in: 0...0.3, using: &random) * arcsec,
                                              bearing: Double.random(in: 0..<360, using: &random))
                let detection = Detection(ra: seen.ra, dec: seen.dec, frame: "frame-\(frame)",
                                          distanceToFrameCenter: Double.random(in: 0..<1000, using: &random), row: index)
                inputs.append(String(decoding: try encoder.encode(detection), as: UTF8.self))
            }
        }
        let registry = OperatorRegistry()
        registry.register(ReadDetection.self)
        registry.registerSkyMerge()
        var settings = EngineSettings()
        settings.localSlots = 2
        let context = EngineContext.local(registry: registry, settings: settings)
        defer { context.stop() }
        let detections = try context.dataset(inputs, partitioning: .count(16)).map(ReadDetection.self, NoParameters())

        let baselineStart = Date()
        XCTAssertEqual(try detections.count(), inputs.count)
        let baseline = Date().timeIntervalSince(baselineStart)
        let mergeStart = Date()
        let result = try detections.mergedSky(SkyMergeParameters(order: 11, matchRadius: arcsec), partitions: 8).save()
        let merge = Date().timeIntervalSince(mergeStart)

        XCTAssertEqual(result.status, .succeeded)
        let rows = try result.records(as: MergedSource.self)
        XCTAssertEqual(rows.count, sources, "one row per source")
        XCTAssertTrue(rows.allSatisfy { $0.detectionCount == 3 })
        print(String(format: "sky merge bench: %d detections; read-only job %.3f s, merge job %.3f s (%.2fx); "
                     + "%.0f shuffle bytes per detection", inputs.count, baseline, merge, merge / baseline,
                     Double(result.shuffleBytes) / Double(inputs.count)))
    }
}
