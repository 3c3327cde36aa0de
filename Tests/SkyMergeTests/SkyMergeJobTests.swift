import Engine
import Foundation
import HEALPix
import SkyMerge
import XCTest

/// Source records are JSON detections; this step reads them.
struct ReadDetection: MapOperator {
    typealias Parameters = NoParameters
    typealias Input = String
    typealias Output = Detection
    static let name = "test.read-detection"
    init(parameters: NoParameters) {}
    func map(_ json: String, context: TaskContext) throws -> Detection {
        try JSONDecoder().decode(Detection.self, from: Data(json.utf8))
    }
}

final class SkyMergeJobTests: XCTestCase {
    /// The merge as an Engine job with a shuffle by tile: every truth source once, the same
    /// rows as the pure functions, and the same records on local[1] and local[4].
    func testTheMergeJobMatchesThePureMergeOnOneSlotAndOnFour() throws {
        let sky = try HEALPix(order: 11)
        let parameters = SkyMergeParameters(order: sky.order, matchRadius: SyntheticSky.arcsec)
        let synthetic = SyntheticSky(sky: sky, seed: 7)
        let encoder = JSONEncoder()
        let inputs = try synthetic.detections.map { String(decoding: try encoder.encode($0.detection), as: UTF8.self) }

        func run(slots: Int) throws -> (rows: [MergedSource], result: JobResult) {
            let registry = OperatorRegistry()
            registry.register(ReadDetection.self)
            registry.registerSkyMerge()
            var settings = EngineSettings()
            settings.localSlots = slots
            let context = EngineContext.local(registry: registry, settings: settings)
            defer { context.stop() }
            let merged = try context.dataset(inputs, partitioning: .count(6))
                .map(ReadDetection.self, NoParameters())
                .mergedSky(parameters, partitions: 4)
            let result = merged.save()
            XCTAssertEqual(result.status, .succeeded)
            return (try result.records(as: MergedSource.self), result)
        }
        let one = try run(slots: 1)
        let four = try run(slots: 4)

        XCTAssertEqual(one.rows.count, synthetic.truth.positions.count)
        XCTAssertEqual(Set(one.rows.map(\.primary.row)).count, synthetic.truth.positions.count, "each source once")
        XCTAssertEqual(one.rows, four.rows, "same records in the same order")
        XCTAssertEqual(one.result.partitions.map(\.records), four.result.partitions.map(\.records), "byte for byte")

        let merge = try TileMerge(sky: sky, matchRadius: parameters.matchRadius)
        var byTile: [Int64: [Detection]] = [:]
        for item in synthetic.detections {
            for tile in merge.tiles(for: item.detection) { byTile[tile, default: []].append(item.detection) }
        }
        let pure = byTile.flatMap { merge.merge(tile: $0.key, detections: $0.value) }
        XCTAssertEqual(Set(one.rows), Set(pure))
        let shuffled = one.result.shuffleBytes
        print("sky merge job: \(synthetic.detections.count) detections, \(one.rows.count) sources, "
              + "\(shuffled) shuffle bytes (\(shuffled / synthetic.detections.count) per detection)")
    }
}
