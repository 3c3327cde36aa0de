import Engine
import Foundation
import HEALPix
import Logging
import SkyMerge
import Storage

/// Runs a sky merge on any executor backend as one Engine job with a shuffle by tile: map
/// stage `sextant.sky.catalog-tiles` (read a catalog, key its detections by tile and margin),
/// shuffle, result stage `sextant.sky.write-tiles` (merge each tile, commit its file). Then it
/// writes the partition index and `_SUCCESS`. The driver of `sextant merge` and of a master's
/// merge jobs alike.
/// @unchecked: `lock` guards `handle` and `cancelled`; the public vars are set before `run`.
public final class SkyMergeDriver: @unchecked Sendable {
    public static let successName = "_SUCCESS"
    public static let framesName = "_frames.csv"
    public static let reportName = "_merge.json"

    public let spec: SkyMergeSpec
    public let engineSettings: EngineSettings
    /// True when tasks run in other processes (a cluster): they then carry only shareable settings.
    public var tasksLeaveThisProcess = false
    /// Where map outputs go unless `sextant.shuffle.location` says: `.temporary` (local mode:
    /// outputs on the executors' own disk, recomputed when one is lost) or `.underOutput`
    /// (a cluster: `OUTPUT/_shuffle`, a place every executor reaches, outputs that survive).
    public var defaultShuffle = DefaultShuffle.temporary
    public var listeners: [any JobListener] = []
    private let logger: Logger
    private let lock = NSLock()
    private var handle: JobHandle?
    private var cancelled = false

    public enum DefaultShuffle: Sendable { case temporary, underOutput }

    public init(spec: SkyMergeSpec, engineSettings: EngineSettings, logger: Logger = Logger(label: "sextant.merge")) {
        self.spec = spec
        self.engineSettings = engineSettings
        self.logger = logger
    }

    public func cancel() {
        lock.lock(); defer { lock.unlock() }
        cancelled = true
        handle?.cancel()
    }

    public func run(backend: ExecutorBackend) throws -> SkyMergeReport {
        let started = Date()
        _ = try TileMerge(sky: HEALPix(order: spec.order), matchRadius: spec.matchRadius)  // radius vs order, once
        try AllowedRoots(settings: spec.settings).check(spec.catalogs, purpose: "the catalogs are")
        try AllowedRoots(settings: spec.settings).check(spec.output, purpose: "the sky output is")
        let catalogs = try StoreCache.shared.store(for: spec.catalogs, settings: spec.settings)
        let frames = try Self.frameCatalogs(in: catalogs, excluding: spec.output, under: spec.catalogs)
        guard !frames.isEmpty else { throw SkyMergeError.noCatalogs(spec.catalogs) }
        let output = try StoreCache.shared.store(for: spec.output, settings: spec.settings)
        try output.checkWritable()

        let (settings, temporary) = try shuffleSettings()
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        let context = EngineContext(backend: backend, registry: registry, settings: engineSettings,
                                    shuffleStore: try ShuffleLocation.store(settings: settings), logger: logger)
        listeners.forEach(context.scheduler.addListener)
        defer { context.stop() }

        let records = try frames.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let merge = spec.mergeParameters
        let reducers = try Partitioner.hash(partitions: max(1, spec.reducePartitions ?? 8))
        let sky = try context.dataset(records, partitioning: .count(min(frames.count, 128)))
            .flatMap(CatalogTiles.self, .init(catalogs: spec.catalogs, columns: spec.columns, merge: merge))
            .groupByKey(reducers)
            .mapPartitions(WriteSkyTiles.self, .init(output: spec.output, merge: merge))
        let taskSettings = tasksLeaveThisProcess ? settings.filter { ConfigurationKeys.travels($0.key) } : settings
        let job: JobHandle = {
            lock.lock(); defer { lock.unlock() }
            let job = sky.submit(settings: taskSettings, jobID: spec.jobID)
            handle = job
            if cancelled { job.cancel() }
            return job
        }()
        let result = job.wait()

        return try Self.commit(result, frames: frames, spec: spec, to: output, started: started)
    }

    /// After the job: the partition index (when it succeeded), `_merge.json`, `_SUCCESS`, and the report.
    /// `run --sky-order` ends its one job the same way.
    static func commit(_ result: JobResult, frames: [FrameCatalogRef], spec: SkyMergeSpec, to output: ObjectStore,
                       started: Date) throws -> SkyMergeReport {
        let tiles = result.status == .succeeded ? try result.records(as: SkyTileRecord.self) : []
        let written = tiles.filter { $0.problem == nil }.sorted { $0.tile < $1.tile }
        let shuffleID = result.stages?.first(where: { $0.shuffleID != nil })?.shuffleID
        var report = SkyMergeReport(
            jobID: spec.jobID, status: result.status, frames: frames.count,
            detections: written.reduce(0) { $0 + $1.detections }, sources: written.reduce(0) { $0 + $1.sources },
            tiles: written.count, problems: tiles.compactMap(\.problem), seconds: 0, shuffleBytes: result.shuffleBytes,
            recomputedMapPartitions: shuffleID.map { result.recomputedMapPartitions(of: $0) } ?? [],
            stageAttempts: result.stages?.count ?? 0,
            failureReason: result.status == .succeeded ? nil
                : result.failureReason ?? result.failedPartitions.first?.failureReasons.last ?? result.status.rawValue,
            output: spec.output)
        if result.status == .succeeded {
            try SkyIndex.write(tiles: written, frames: frames, spec: spec, report: report, to: output)
        }
        report.seconds = Date().timeIntervalSince(started)
        try output.put(Self.reportName, data: try Self.encoder.encode(report))
        if result.status == .succeeded { try output.put(Self.successName, data: Data()) }
        return report
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    /// The job's settings with the shuffle's location, and the temporary directory to remove.
    private func shuffleSettings() throws -> ([String: String], URL?) {
        try ShuffleLocation.jobSettings(spec.settings, jobID: spec.jobID, skyOutput: spec.output,
                                        underOutput: defaultShuffle == .underOutput)
    }

    /// The catalogs a finished job committed (its manifest), else every FITS catalog under the
    /// location, sorted by key; the sky output is never read as input.
    static func frameCatalogs(in store: ObjectStore, excluding output: String, under location: String) throws
        -> [FrameCatalogRef] {
        var keys: [String] = []
        let isCatalog = { (key: String) in key.hasSuffix(".cat.fits") || key.hasSuffix(".ldac.fits") }
        if let manifest = try? store.get(ExtractionDriver.manifestName) {
            for line in manifest.split(separator: UInt8(ascii: "\n")) {
                guard let entry = try? JSONDecoder().decode(ManifestEntry.self, from: Data(line)),
                      entry.outcome == .committed || entry.outcome == .skipped else { continue }
                keys += (entry.outputs ?? entry.catalog.map { [$0] } ?? []).filter(isCatalog)
            }
        } else {
            let base = location.hasSuffix("/") ? location : location + "/"
            let skip = output.hasPrefix(base) ? String(output.dropFirst(base.count)) : nil
            try store.forEachObject { object in
                if isCatalog(object.key), skip.map({ !object.key.hasPrefix($0 + "/") }) ?? true { keys.append(object.key) }
            }
        }
        return Array(Set(keys)).sorted().enumerated().map { FrameCatalogRef(index: $0.offset, key: $0.element) }
    }
}

public enum SkyMergeError: Error, CustomStringConvertible {
    case noCatalogs(String)

    public var description: String {
        switch self {
        case .noCatalogs(let location):
            return "\(location): no FITS catalogs to merge (no committed *.cat.fits or *.ldac.fits in its "
                + "_manifest.jsonl or under it; CSV catalogs are not read)"
        }
    }
}
