import Engine
import FITS
import Foundation
import HEALPix
import SkyMerge

/// What the sky merge's map side sends through the shuffle: each detection keyed by every tile
/// that must see it (`TileMerge.tiles(for:)`), and, under `problemTile`, one record per catalog
/// that could not be read, so a bad catalog is a line in the report, not a failed job.
enum SkyShuffle {
    static let problemTile: Int64 = -1

    static func problem(_ text: String) -> KeyValue<Int64, Detection> {
        KeyValue(problemTile, Detection(ra: 0, dec: 0, frame: text, distanceToFrameCenter: 0, row: -1))
    }
}

/// The map side: a frame catalog (`FrameCatalogRef` as JSON) to its detections keyed by tile.
struct CatalogTiles: FlatMapOperator {
    struct Parameters: Codable, Sendable {
        /// The finished job's output (a directory or s3:// prefix) the catalogs' keys are under.
        var catalogs: String
        var columns: SkyColumnNames
        var merge: SkyMergeParameters
    }
    typealias Input = String
    typealias Output = KeyValue<Int64, Detection>
    static let name = "sextant.sky.catalog-tiles"
    private let parameters: Parameters
    private let merge: TileMerge

    init(parameters: Parameters) throws {
        self.parameters = parameters
        merge = try TileMerge(sky: HEALPix(order: parameters.merge.order), matchRadius: parameters.merge.matchRadius)
    }

    func flatMap(_ json: String, context: TaskContext) throws -> [KeyValue<Int64, Detection>] {
        let frame = try JSONDecoder().decode(FrameCatalogRef.self, from: Data(json.utf8))
        // A store that cannot be reached may come back: that fails the task, which is retried.
        let store = try StoreCache.shared.store(for: parameters.catalogs, settings: context.settings)
        let data = try store.get(frame.key)
        let detections: [Detection]
        do {
            detections = try FrameCatalogReader.detections(in: data, of: frame, columns: parameters.columns)
        } catch {
            // A damaged or foreign catalog is the same on every retry: report it once.
            return [SkyShuffle.problem("\(error)")]
        }
        try context.checkCancellation()
        return detections.flatMap { detection in merge.tiles(for: detection).map { KeyValue($0, detection) } }
    }
}

/// What a reduce task reports of each tile it wrote (or each catalog that could not be read).
public struct SkyTileRecord: Codable, Sendable, Equatable {
    public var tile: Int64
    public var sources: Int
    /// Detections merged into the tile's sources (the sum of NDETECT).
    public var detections: Int
    public var bytes: Int
    /// Set for a catalog the merge could not read: one line naming it and why.
    public var problem: String?
}

/// The reduce side: merges each tile's detections (its own and its margin's) and commits the
/// tile's sources as `Norder=K/Dir=D/Npix=N.fits` under the sky output.
struct WriteSkyTiles: PartitionOperator {
    struct Parameters: Codable, Sendable {
        var output: String
        var merge: SkyMergeParameters
    }
    typealias Input = KeyValue<Int64, [Detection]>
    typealias Output = SkyTileRecord
    static let name = "sextant.sky.write-tiles"
    private let parameters: Parameters
    private let merge: TileMerge

    init(parameters: Parameters) throws {
        self.parameters = parameters
        merge = try TileMerge(sky: HEALPix(order: parameters.merge.order), matchRadius: parameters.merge.matchRadius)
    }

    func apply(_ tiles: [KeyValue<Int64, [Detection]>], context: TaskContext) throws -> [SkyTileRecord] {
        let store = try StoreCache.shared.store(for: parameters.output, settings: context.settings)
        var records: [SkyTileRecord] = []
        var files: [(key: String, data: Data)] = []
        for tile in tiles {
            try context.checkCancellation()
            if tile.key == SkyShuffle.problemTile {
                records += tile.value.map { SkyTileRecord(tile: tile.key, sources: 0, detections: 0, bytes: 0,
                                                           problem: $0.frame) }
                continue
            }
            let sources = merge.merge(tile: tile.key, detections: tile.value)
            guard !sources.isEmpty else { continue }
            let data = try SkyTileFile.encode(sources, order: merge.sky.order, tile: tile.key,
                                              matchRadius: merge.matchRadius)
            files.append((SkyTileFile.key(order: merge.sky.order, tile: tile.key), data))
            records.append(SkyTileRecord(tile: tile.key, sources: sources.count,
                                         detections: sources.reduce(0) { $0 + $1.detectionCount },
                                         bytes: data.count, problem: nil))
        }
        // The task's tiles made durable together: a file system flushes them at once, not two fsyncs a tile.
        try store.putAll(files)
        return records
    }
}

extension OperatorRegistry {
    /// The sky merge's steps, and the shuffle's resolved from each job's settings: every
    /// process that may run a merge task registers these (`ExtractionDriver.registerOperators`).
    public func registerSkyMergeOperators() {
        registerSkyMerge()
        register(CatalogTiles.self)
        register(WriteSkyTiles.self)
        register(ExtractSkyTiles.self)
        registerShuffleOperatorsFromSettings()
    }
}
