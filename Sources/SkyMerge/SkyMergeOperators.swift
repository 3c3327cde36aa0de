import Engine
import Foundation
import HEALPix

/// The sky merge as registered operators, for a job with one shuffle keyed by tile:
/// `FanOutToTiles` is its map side, `MergeTiles` its reduce side (`Dataset.mergedSky`).
public struct SkyMergeParameters: Codable, Sendable, Hashable {
    /// HEALPix order of the tiles.
    public var order: Int
    /// Degrees.
    public var matchRadius: Double

    public init(order: Int, matchRadius: Double) {
        self.order = order
        self.matchRadius = matchRadius
    }

    public func merge() throws -> TileMerge { try TileMerge(sky: HEALPix(order: order), matchRadius: matchRadius) }
}

/// A detection, keyed by every tile that must see it (its own and its margin's).
public struct FanOutToTiles: FlatMapOperator {
    public typealias Parameters = SkyMergeParameters
    public typealias Input = Detection
    public typealias Output = KeyValue<Int64, Detection>
    public static let name = "sextant.sky.fan-out"
    private let merge: TileMerge

    public init(parameters: SkyMergeParameters) throws { merge = try parameters.merge() }

    public func flatMap(_ detection: Detection, context: TaskContext) throws -> [KeyValue<Int64, Detection>] {
        merge.tiles(for: detection).map { KeyValue($0, detection) }
    }
}

/// The sources each tile owns, from the detections sent to it.
public struct MergeTiles: PartitionOperator {
    public typealias Parameters = SkyMergeParameters
    public typealias Input = KeyValue<Int64, [Detection]>
    public typealias Output = MergedSource
    public static let name = "sextant.sky.merge-tiles"
    private let merge: TileMerge

    public init(parameters: SkyMergeParameters) throws { merge = try parameters.merge() }

    public func apply(_ tiles: [KeyValue<Int64, [Detection]>], context: TaskContext) throws -> [MergedSource] {
        try tiles.flatMap { tile in
            try context.checkCancellation()
            return merge.merge(tile: tile.key, detections: tile.value)
        }
    }
}

extension OperatorRegistry {
    /// Registers the sky merge's operators (driver and every executor).
    public func registerSkyMerge() {
        register(FanOutToTiles.self)
        register(MergeTiles.self)
    }
}

extension Dataset where Element == Detection {
    /// One row per source of the sky: detections fanned out to their tiles and margins,
    /// shuffled by tile into `partitions` reduce partitions, merged per tile.
    public func mergedSky(_ parameters: SkyMergeParameters, partitions: Int) throws -> Dataset<MergedSource> {
        try flatMap(FanOutToTiles.self, parameters)
            .groupByKey(.hash(partitions: partitions))
            .mapPartitions(MergeTiles.self, parameters)
    }
}

/// ~30 bytes through the shuffle instead of ~100 of JSON: positions and distance exact (the
/// Doubles' bits), the frame as its UTF-8, the row as a varint.
extension Detection: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) {
        writer.write(ra)
        writer.write(dec)
        writer.write(frame)
        writer.write(distanceToFrameCenter)
        writer.write(row)
    }

    public init(from reader: inout ShuffleBinaryReader) throws {
        self.init(ra: try reader.readDouble(), dec: try reader.readDouble(), frame: try reader.readString(),
                  distanceToFrameCenter: try reader.readDouble(), row: try reader.readInt())
    }
}
