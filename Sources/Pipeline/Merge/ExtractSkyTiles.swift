import Engine
import Foundation
import HEALPix
import SkyMerge

/// `run --sky-order K`: the job ends with a sky merge of its catalogs under `OUT/sky`.
public struct SkyStage: Codable, Equatable, Sendable {
    /// HEALPix order of the tiles.
    public var order: Int
    /// Degrees.
    public var matchRadius: Double
    /// Reduce tasks (each merges whole tiles); nil: 8.
    public var reducePartitions: Int?

    public init(order: Int, matchRadius: Double, reducePartitions: Int? = nil) {
        self.order = order
        self.matchRadius = matchRadius
        self.reducePartitions = reducePartitions
    }

    var mergeParameters: SkyMergeParameters { SkyMergeParameters(order: order, matchRadius: matchRadius) }

    /// Where the tiles go: `OUT/sky`.
    static func output(under output: String) -> String {
        (output.hasSuffix("/") ? String(output.dropLast()) : output) + "/sky"
    }
}

/// One input of the first stage of `run --sky-order`: its frame number (FRAME in the merged
/// catalog) and whether an earlier run committed its catalog (`--resume`: read, not extracted).
struct SkyFrameInput: Codable, Sendable {
    var input: InputFile
    var frame: Int
    var committed: Bool
}

/// The first stage of `run --sky-order`: extracts each input and commits its catalog as the
/// extract operator does, reports its manifest entry to the driver, and sends its detections,
/// keyed by tile and margin, into the shuffle (`MapSideRecord`). The detections are decoded
/// from the catalog bytes the task just committed, not read back from the store: the merge sees
/// exactly what a later `sextant merge` of the catalogs would, whether a frame was extracted in
/// this job or, resumed, its committed catalog is read.
struct ExtractSkyTiles: PartitionOperator {
    struct Parameters: Codable, Sendable {
        var extract: ExtractParameters
        var merge: SkyMergeParameters
    }
    typealias Input = SkyFrameInput
    typealias Output = MapSideRecord<Int64, Detection, ManifestEntry>
    static let name = "sextant.sky.extract-tiles"
    private let parameters: Parameters
    private let extractor: ExtractOperator
    private let merge: TileMerge

    init(parameters: Parameters) throws {
        self.parameters = parameters
        extractor = try ExtractOperator(parameters: parameters.extract)
        merge = try parameters.merge.merge()
    }

    func apply(_ inputs: [SkyFrameInput], context: TaskContext) throws -> [Output] {
        var records: [Output] = []
        let fresh = inputs.filter { !$0.committed }
        for (frame, made) in zip(fresh, try extractor.extract(fresh.map(\.input), context: context)) {
            records.append(.report(made.entry))
            if let catalog = made.catalog { records += keyed(catalog, of: reference(frame)) }
        }
        let committed = inputs.filter(\.committed)
        if !committed.isEmpty {
            // A store that cannot be reached may come back: that fails the task, which is retried.
            let store = try StoreCache.shared.store(for: parameters.extract.output, settings: context.settings)
            for frame in committed {
                try context.checkCancellation()
                records += keyed(try store.get(reference(frame).key), of: reference(frame))
            }
        }
        return records
    }

    private func reference(_ frame: SkyFrameInput) -> FrameCatalogRef {
        FrameCatalogRef(index: frame.frame, key: parameters.extract.format.catalogName(for: frame.input.relativePath))
    }

    /// A catalog's detections keyed by tile; one problem record for a catalog without sky positions.
    private func keyed(_ catalog: Data, of frame: FrameCatalogRef) -> [Output] {
        do {
            return try FrameCatalogReader.detections(in: catalog, of: frame, columns: SkyColumnNames())
                .flatMap { detection in merge.tiles(for: detection).map { .keyed(KeyValue($0, detection)) } }
        } catch {
            return [.keyed(SkyShuffle.problem("\(error)"))]
        }
    }
}
