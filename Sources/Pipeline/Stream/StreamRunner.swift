import Engine
import Foundation
import Logging
import Storage

/// `sextant stream`: watches an input, and runs each new batch of complete files as one
/// ordinary job (the same extraction, manifest and atomic commits as `sextant run`), exactly
/// once across restarts through the checkpoint in the output.
///
/// A batch, in order: the checkpoint records it as in flight; its job runs (the driver writes
/// `_manifest.jsonl`); the manifest is kept as `_stream/batches/N.jsonl` with a summary
/// `N.json`; the checkpoint settles its files. Killed anywhere in between, the next start
/// reruns the in-flight batch with `resume` (what it committed is kept, not made again) before
/// listing anything new, and never takes a settled file again.
/// @unchecked: `lock` guards `stopping`; `checkpoint` is touched only by the thread in `run`,
/// and `onFigures` is set before it.
public final class StreamRunner: @unchecked Sendable {
    public static let stopKey = "_stream/stop"
    public static let batchPrefix = "_stream/batches/"

    public let input: String
    private let template: JobSpec
    private let settings: StreamSettings
    private let runner: StreamBatchRunner
    private let logger: Logger
    private let output: ObjectStore
    private let source: StreamSource
    private let waiter = StreamWaiter()
    private let stats: StreamStats
    private var checkpoint: StreamCheckpoint
    public let streamID: String
    private let lock = NSLock()
    private var stopping = false

    /// Called after every listing and batch with the current figures.
    public var onFigures: (@Sendable (StreamFigures) -> Void)?

    /// - Parameters:
    ///   - input: a directory or an s3:// prefix.
    ///   - template: the job every batch is made from (parameters, output, settings).
    ///   - watch: use inotify on a directory (tests turn it off to exercise the listing alone).
    public init(input: String, template: JobSpec, settings: StreamSettings, runner: StreamBatchRunner,
                watch: Bool = true, logger: Logger = Logger(label: "sextant.stream")) throws {
        self.template = template
        self.settings = settings
        self.runner = runner
        self.logger = logger
        let settingsValues = template.settings
        let inputStore = try StoreCache.shared.store(for: input, settings: settingsValues)
        self.input = inputStore.location.description
        output = try StoreCache.shared.store(for: template.parameters.output, settings: settingsValues)
        if case .file(let inputPath) = inputStore.location, case .file(let outputPath) = output.location,
           outputPath == inputPath || outputPath.hasPrefix(inputPath == "/" ? "/" : inputPath + "/") {
            throw StreamError.outputInsideInput(output: outputPath, input: inputPath)
        }
        try output.checkWritable()
        source = StreamSource(store: inputStore, watch: watch)
        if let saved = try StreamCheckpoint.load(from: output) {
            guard saved.source == self.input else {
                throw StreamError.otherSource(output.location(of: StreamCheckpoint.key).description,
                                              checkpointSource: saved.source, given: self.input)
            }
            checkpoint = saved
        } else {
            checkpoint = StreamCheckpoint(streamID: "stream-" + JobDescription.makeJobID().dropFirst("job-".count),
                                          source: self.input)
            try checkpoint.save(to: output)
        }
        streamID = checkpoint.streamID
        stats = StreamStats(streamID: checkpoint.streamID, input: self.input, output: output.location.description)
    }

    /// Whether inotify wakes the stream (a directory where it works).
    public var isWatching: Bool { source.watcher != nil }
    public var figures: StreamFigures { stats.snapshot() }

    /// Ends `run` soon: the batch under way is stopped (rerun at the next start), nothing new starts.
    public func stop() {
        lock.withLock { stopping = true }
        runner.cancel()
        waiter.wake()
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    /// Watches and runs batches until `stop()` or a stop request in the output (`sextant cancel
    /// --stream DEST`). Throws when the output cannot be written or a batch cannot run.
    public func run() throws {
        if source.needsSettling, source.watcher == nil {
            logger.notice("\(input): no inotify here; listing every \(settings.pollInterval) s")
        }
        try? output.delete(Self.stopKey)  // a request left from before this start is not for it
        while !isStopping {
            if try output.head(Self.stopKey) != nil {
                try? output.delete(Self.stopKey)
                logger.notice("stream \(streamID): stop requested through \(output.location(of: Self.stopKey))")
                break
            }
            let listing = try source.list(after: checkpoint, settleTime: settings.settleTime, limit: listingLimit)
            let batch: StreamBatch
            var resume = false
            if let inFlight = checkpoint.inFlight {
                logger.notice("stream \(streamID): batch \(inFlight.number) was cut off; running it again (its committed catalogs are kept)")
                batch = inFlight
                resume = true
            } else {
                let (run, skipped) = BatchSelection.select(listing.complete, settings: settings)
                report(listing)
                guard !run.isEmpty || !skipped.isEmpty else {
                    let settle = listing.nextSettle.map { $0.timeIntervalSinceNow + 0.01 } ?? .infinity
                    waiter.wait(seconds: max(0.01, min(settings.pollInterval, settle)),
                                watching: source.watcher?.pollDescriptor)
                    continue
                }
                batch = StreamBatch(number: checkpoint.nextBatch, files: run, skipped: skipped)
                checkpoint.inFlight = batch
                try checkpoint.save(to: output)
            }
            let taken = Set(batch.keys)
            let pending = listing.pending + listing.complete.map(\.input.relativePath).filter { !taken.contains($0) }
            guard try runBatch(batch, resume: resume, pending: pending) else { break }
        }
        stats.update { $0.state = "stopped" }
        onFigures?(stats.snapshot())
    }

    /// Runs and records one batch; false when it was stopped before its end.
    private func runBatch(_ batch: StreamBatch, resume: Bool, pending: [String]) throws -> Bool {
        let started = Date()
        logSkipped(batch)
        var entries: [ManifestEntry] = []
        var manifest = Data()
        if !batch.files.isEmpty {
            var spec = template
            spec.jobID = jobID(of: batch.number)
            spec.inputs = batch.files.map(\.input)
            spec.resume = resume
            spec.settings[SchedulerKeys.pool.name] = settings.pool
            stats.update { $0.state = "running batch \(batch.number)" }
            onFigures?(stats.snapshot())
            try runner.run(spec)
            manifest = (try? output.get(ExtractionDriver.manifestName)) ?? Data()
            entries = Self.entries(in: manifest)
            let byInput = Dictionary(entries.map { ($0.input, $0) }, uniquingKeysWith: { first, _ in first })
            let missing = spec.inputs.filter { byInput[$0.uri] == nil || byInput[$0.uri]?.outcome == .notRun }
            if !missing.isEmpty {
                if isStopping { return false }
                throw StreamError.batchIncomplete(batch.number, reason: "\(missing.count) of its \(spec.inputs.count) files did not run (first: \(missing[0].uri))")
            }
            entries = spec.inputs.compactMap { byInput[$0.uri] }
        }
        try record(batch, entries: entries, manifest: manifest, started: started)
        checkpoint.settle(batch.keys, pending: pending, window: settings.window)
        checkpoint.inFlight = nil
        checkpoint.nextBatch = batch.number + 1
        try checkpoint.save(to: output)
        // The batch's manifest lives on under _stream/batches; at the top it would be taken for a job's.
        try? output.delete(ExtractionDriver.manifestName)
        try? output.delete(ExtractionDriver.successName)
        source.watcher?.forget(batch.keys)
        account(batch, entries: entries)
        return true
    }

    /// Oldest first looks 16 batches ahead in name order (names that grow with time make that
    /// the oldest); newest first must see the whole backlog once to skip it.
    private var listingLimit: Int { settings.order == .oldest ? max(1024, settings.maxFilesPerBatch * 16) : .max }

    func jobID(of batch: Int) -> String { "\(streamID)-b" + String(format: "%08d", batch) }

    private static func entries(in manifest: Data) -> [ManifestEntry] {
        let decoder = JSONDecoder()
        return manifest.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(ManifestEntry.self, from: Data($0)) }
    }

    /// `_stream/batches/N.jsonl` (the job's manifest) and `N.json` (what the batch was).
    private func record(_ batch: StreamBatch, entries: [ManifestEntry], manifest: Data, started: Date) throws {
        let name = Self.batchPrefix + String(format: "%08d", batch.number)
        if !manifest.isEmpty { try output.put(name + ".jsonl", data: manifest) }
        let summary = BatchRecord(batch: batch.number, jobID: batch.files.isEmpty ? nil : jobID(of: batch.number),
                                  started: started, finished: Date(), files: batch.files.count,
                                  committed: entries.filter { $0.outcome == .committed }.count,
                                  kept: entries.filter { $0.outcome == .skipped }.count,
                                  failed: entries.filter { $0.outcome == .failed }.count,
                                  skipped: batch.skipped)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        try output.put(name + ".json", data: try encoder.encode(summary))
    }

    private func account(_ batch: StreamBatch, entries: [ManifestEntry]) {
        let landed = Dictionary(batch.files.map { ($0.input.uri, $0.landed) }, uniquingKeysWith: { first, _ in first })
        let now = Date()
        for entry in entries {
            switch entry.outcome {
            case .committed:
                let finished = entry.provenance?.finished.flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) } ?? now
                let size = entry.provenance?.inputSize ?? Int64(batch.files.first { $0.input.uri == entry.input }?.input.size ?? 0)
                stats.committed(bytes: size, latency: (landed[entry.input] ?? nil).map { finished.timeIntervalSince($0) })
            case .failed: stats.update { $0.filesFailed += 1 }
            default: break
            }
        }
        stats.update {
            $0.batches += 1
            $0.lastBatch = batch.number
            $0.filesSkipped += batch.skipped.count
            $0.state = "watching"
        }
        let failed = entries.filter { $0.outcome == .failed }.count
        logger.notice("stream \(streamID): batch \(batch.number): \(batch.files.count) files, \(failed) failed, \(batch.skipped.count) skipped")
        onFigures?(stats.snapshot())
    }

    private func report(_ listing: StreamSource.Listing) {
        let now = Date()
        let oldest = listing.complete.compactMap(\.landed).min()
        stats.update {
            $0.backlog = listing.complete.count
            $0.lagSeconds = oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0
        }
        onFigures?(stats.snapshot(now: now))
    }

    /// Every skipped file is said once, when its batch is made: one line each for the first 20,
    /// then a count (the batch's `N.json` names them all).
    private func logSkipped(_ batch: StreamBatch) {
        for file in batch.skipped.prefix(20) {
            logger.warning("\(source.store.location(of: file.key)): skipped: \(file.reason)")
        }
        if batch.skipped.count > 20 {
            let record = output.location(of: Self.batchPrefix + String(format: "%08d", batch.number) + ".json")
            logger.warning("batch \(batch.number): \(batch.skipped.count - 20) more files skipped; \(record) lists all")
        }
    }
}

/// `_stream/batches/N.json`: one batch as it ended.
struct BatchRecord: Codable {
    var batch: Int
    var jobID: String?
    var started: Date
    var finished: Date
    var files: Int
    var committed: Int
    /// Already committed before a restart (the rerun of a cut-off batch kept them).
    var kept: Int
    var failed: Int
    var skipped: [SkippedFile]
}

/// `sextant cancel --stream DEST`: a stop request the stream finds at its next look.
public enum StreamStop {
    public static func request(output: String, configuration: Configuration) throws {
        let store = try StoreCache.shared.store(for: output, settings: configuration.values)
        guard try StreamCheckpoint.load(from: store) != nil else {
            throw StreamError.badCheckpoint(store.location(of: StreamCheckpoint.key).description,
                                            reason: "no stream writes here (no checkpoint)")
        }
        try store.put(StreamRunner.stopKey, data: Data("stop\n".utf8))
    }
}
