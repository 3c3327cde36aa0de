import Engine
import Foundation
import Logging
import Storage

/// Runs a JobSpec on any executor backend (local threads or a cluster) with the engine's
/// scheduler, then writes the manifest and the _SUCCESS marker. The driver of `sextant run`
/// and of a master's jobs alike.
/// @unchecked: `cancelLock` guards `activeHandle` and `cancelled`; the public vars are set before `run`.
public final class ExtractionDriver: @unchecked Sendable {
    public static let manifestName = "_manifest.jsonl"
    public static let successName = "_SUCCESS"

    /// Registers the operators a Sextant process must know, driver and executor alike, and the
    /// test operators when the environment enables them (`TestOperators`).
    public static func registerOperators(in registry: OperatorRegistry,
                                         environment: [String: String] = ProcessInfo.processInfo.environment) {
        registry.register(ExtractOperator.self)
        registry.register(PipeOperator.self)
        registry.registerSkyMergeOperators()
        TestOperators.registerIfEnabled(in: registry, environment: environment)
    }

    /// Applies the process-wide settings (`ExtractionKeys`: SEP's stack and limits, the
    /// large-image slots) of this process's own configuration. Tasks from another process never
    /// carry them (`JobSpec.shareableSettings`), so an executor's values stay its own.
    public static func applyProcessSettings(_ settings: [String: String]) throws {
        try SEPSettings.apply(settings)
        try LargeImageGate.shared.apply(settings)
    }

    public let spec: JobSpec
    public let engineSettings: EngineSettings
    /// True when tasks run in other processes (a cluster): then they carry no secret conf keys,
    /// and each executor finds its own credentials.
    public var tasksLeaveThisProcess = false
    /// Called once per input as its outcome becomes known (progress bars, UIs), from any thread.
    /// An input a resume skips comes without its digests and provenance (`EntryTable.summary`).
    public var onEntry: (@Sendable (ManifestEntry) -> Void)?
    /// Hear every scheduler event of this run (tasks, executors), e.g. a monitor. Set before `run`.
    public var listeners: [any JobListener] = []
    private let logger: Logger
    private let cancelLock = NSLock()
    private var activeHandle: JobHandle?
    private var cancelled = false

    public init(spec: JobSpec, engineSettings: EngineSettings, logger: Logger = Logger(label: "sextant.driver")) {
        self.spec = spec
        self.engineSettings = engineSettings
        self.logger = logger
    }

    /// Stops the job: running tasks are cancelled, nothing new starts, the manifest is still written.
    public func cancel() {
        cancelLock.lock(); defer { cancelLock.unlock() }
        cancelled = true
        activeHandle?.cancel()
    }

    public func run(backend: ExecutorBackend) throws -> JobReport {
        let started = Date()
        // A submitted job's inputs come from a client: their names are checked here too.
        try InputNames.validate(spec.inputs)
        // A master writes the manifest (and reads it with --resume) on the submitter's behalf.
        try AllowedRoots(settings: spec.settings).check(spec.parameters.output, purpose: "the output is")
        // The driver's own store may use this process's secrets; tasks get the shareable settings.
        let output = try StoreCache.shared.store(for: spec.parameters.output, settings: spec.settings)
        // One clear error now beats a failure per task later (wrong key, read-only directory).
        try output.checkWritable()
        _ = try ProvenanceSettings(spec.settings)  // a bad value fails once, here, not in every task
        // --sky-order: the extraction is the first stage of a job that ends with the merge.
        let sky = try spec.sky.map { try SkyRun(driver: self, stage: $0, backend: backend) }
        defer { sky?.finish() }

        let catalogs = catalogIndex()
        let book = SplitBook()
        // One typed slot an input, in input order (`EntryTable`: 168 bytes, not a ManifestEntry's ~1.2 KB).
        let entries = EntryTable(count: spec.inputs.count)
        var pending: [Int] = []
        var announcing: Concurrently.Running?  // the skipped inputs' `onEntry` calls
        defer { announcing?.wait() }
        /// The earlier manifest's version tag when its lines were read (a resume copies lines from it).
        var earlierTag: String?
        if spec.resume {
            // The listing (mostly stat calls) on a thread of its own while this one reads the earlier manifest.
            let (listed, read) = Concurrently.run({ [spec] in
                try catalogs.committedSizes(in: output, mayBeOutput: spec.mayBeOutput)
            }, while: { carryOverEarlierEntries(from: output, catalogs: catalogs, into: entries, book: book) })
            let existing = try listed.get()
            earlierTag = try read.get()
            for (index, input) in spec.inputs.enumerated() {
                guard let size = existing[index] else {
                    entries.clear(at: index)  // the earlier manifest's line of an input whose catalog is gone
                    pending.append(index)
                    continue
                }
                // The size is the listing's; the rest the earlier manifest's, when it had a line for it.
                if entries.outcome(at: index) != nil {
                    entries.setBytes(size, at: index)
                    continue
                }
                let names = spec.outputNames(for: input)
                entries.set(skippedEntry(input, names: names, bytes: size, before: nil), at: index, input: input,
                            outputs: names)
            }
            if let onEntry {
                // On a thread of its own (10^6 monitor records at a resume), beside the job and the
                // manifest; joined before `run` returns, so every record precedes the job's end.
                let skippedNow = Concurrently.start { [self] in
                    for index in spec.inputs.indices where existing[index] != nil {
                        onEntry(Self.withFrames(summaryEntry(index, in: entries)))
                    }
                }
                announcing = skippedNow
            }
        } else {
            pending = Array(spec.inputs.indices)
        }
        try applySelection(to: entries, pending: &pending)

        let scheduler = sky?.context.scheduler ?? TaskScheduler(backend: backend, settings: engineSettings)
        // Before start, so they also hear the executors the backend already knows.
        listeners.forEach(scheduler.addListener)
        scheduler.start()
        defer { scheduler.stop() }
        if let pipe = spec.pipe {
            try PipePreflight.check(pipe, executors: tasksLeaveThisProcess
                                        ? backend.knownExecutors() ?? scheduler.executorSnapshot().map(\.info) : nil)
        }
        if let sky, !isCancelled {
            try sky.run(pending, entries: entries)  // extraction, shuffle and merge: one job (never split)
        } else if !pending.isEmpty, !isCancelled {
            try runJob(pending, scheduler: scheduler, output: output, catalogs: catalogs, entries: entries, book: book)
        }

        // Every task has ended: what an executor killed mid-commit left is garbage. (A fenced
        // attempt still running somewhere only loses its own put, whose result is discarded.)
        if let removed = try? output.removeAbandonedWrites(), removed > 0 {
            logger.info("removed \(removed) temporary files left by writers that died mid-commit")
        }

        // Written as a stream through a temporary file: a line at a time, never the whole manifest in memory.
        let manifest = try ManifestEntry.LineWriter()
        defer { manifest.discard() }
        // The frame table on a thread of its own while this one writes the manifest: two passes over
        // every entry, on two cores at once. Each is put in place below, the manifest first.
        // Lines of the earlier manifest that are already what this one says are copied, not encoded.
        let earlier = earlierTag.flatMap { EarlierManifest(store: output, key: Self.manifestName, etag: $0) }
        let (table, counted) = Concurrently.run({ [self] in
            let frames = try self.frameTable(count: self.spec.inputs.count) { index in
                Self.withFrames(self.summaryEntry(index, in: entries))
            }
            do {
                for index in self.spec.inputs.indices { try frames?.append(Self.withFrames(self.summaryEntry(index, in: entries))) }
            } catch {
                frames?.discard()
                throw error
            }
            return frames
        }, while: {
            var tally = JobReport.Tally()
            for index in spec.inputs.indices {
                if let earlier, let range = entries.earlierLine(at: index),
                   try earlier.withLine(range, { try manifest.appendLine($0) }) {
                    tally.add(summaryEntry(index, in: entries).entry)
                    continue
                }
                let found = finalEntry(index, in: entries)
                try manifest.append(found.entry, frames: found.frames)
                tally.add(found.entry)
            }
            return tally
        })
        let frames = (try? table.get()) ?? nil
        defer { frames?.discard() }
        let tally = try counted.get()
        _ = try table.get()
        let manifestFile = try manifest.finish()
        // Three independent commits, each fsync'd and renamed: the manifest on a thread of its own while
        // this one commits the frame table and the provenance; _SUCCESS below only once all three are in.
        let (manifestPut, restPut) = Concurrently.run({ try output.put(Self.manifestName, movingFrom: manifestFile) }, while: {
            try frames?.finish(into: output)
            try output.put(JobProvenance.fileName, data: try JobProvenance(
                spec: spec, executors: tally.executors, inputs: tally.inputs, manifestSHA256: manifest.sha256,
                started: started, finished: Date()).encoded())
        })
        try manifestPut.get()
        try restPut.get()
        var report = makeReport(tally, seconds: Date().timeIntervalSince(started))
        if report.status == .succeeded || report.status == .completedWithFailures {
            try output.put(Self.successName, data: Data())  // every input ran
        }
        if let sky { try sky.commit(into: &report, entries: entries) }
        return report
    }

    /// Input `index`'s entry as the manifest writes it, its frame rows as the JSON they arrived in
    /// (the manifest copies them; only the frame table decodes them).
    private func finalEntry(_ index: Int, in entries: EntryTable) -> (entry: ManifestEntry, frames: Data?) {
        let input = spec.inputs[index]
        return entries.entryAndFrames(at: index, input: input, outputs: spec.outputNames(for: input)) ?? (ManifestEntry(
            input: input.uri, outcome: .notRun, attempts: 0,
            error: ManifestEntry.errorLine(input: input.uri, message: "not run: the job stopped")), nil)
    }

    /// `finalEntry` without what only the manifest writes (`EntryTable.summary`: no digests or
    /// provenance): what the frame table, the tally and progress read.
    private func summaryEntry(_ index: Int, in entries: EntryTable) -> (entry: ManifestEntry, frames: Data?) {
        let input = spec.inputs[index]
        return entries.summary(at: index, input: input, outputs: spec.outputNames(for: input)) ?? finalEntry(index, in: entries)
    }

    private static func withFrames(_ found: (entry: ManifestEntry, frames: Data?)) -> ManifestEntry {
        var entry = found.entry
        entry.frames = found.frames.flatMap { try? FrameRow.scanList($0) }
        return entry
    }

    private var isCancelled: Bool {
        cancelLock.lock(); defer { cancelLock.unlock() }
        return cancelled
    }

    /// One scheduler job over the inputs at `indices`, their entries set in `entries`. The scheduler
    /// owns lineage: when every task has ended it lists the output once (`OutputCheck.listing`)
    /// and recomputes the partitions whose committed catalog is gone (an executor-local disk
    /// died, someone deleted it), each at most `sextant.task.maxFailures` times.
    private func runJob(_ indices: [Int], scheduler: TaskScheduler, output: ObjectStore, catalogs: CatalogIndex,
                        entries: EntryTable, book: SplitBook) throws {
        let plan = try spec.partitionPlan(for: indices.map { spec.inputs[$0] })
        let inputs = spec.inputs
        let step = try spec.operatorStep()
        let collector = EntryCollector(spec: spec, partitions: plan.count, inputsOf: { plan.range(of: $0).map { indices[$0] } },
                                       entries: entries, book: book, onEntry: onEntry, logger: logger)
        let check = OutputCheck(skipCommitted: false, listing: { [spec] in
            collector.drain()  // every success so far is in `entries`
            let present = try catalogs.committedSizes(in: output, mayBeOutput: spec.mayBeOutput)
            // A split input's HDUs are the partitions its task handed back: each must have its catalog.
            let lost = Set(try book.committedChildren().filter { try output.head($0.catalog) == nil }.map(\.partition))
            return { partition in
                if partition >= plan.count { return !lost.contains(partition) }
                // An input whose entry says committed must have its catalog; a failed input has none.
                return plan.range(of: partition).allSatisfy { position in
                    let index = indices[position]
                    return book.isSplit(index) || entries.outcome(at: index) != .committed || present[index] != nil
                }
            }
        })
        var options = JobOptions(outputCheck: check, listener: collector, preferredLocations: { partition in
            // Local paths only: an executor's sextant.executor.localPaths name its own disks.
            plan.range(of: partition).map { inputs[indices[$0]].uri }.filter { !$0.contains("://") }
        })
        options.retainsRecords = false  // the collector keeps them compact as they come
        // A task that opens a file with many image HDUs hands them back, one partition each (`HDUSplitting`).
        options.maxAddedPartitionsPerTask = spec.pipe == nil ? Self.maxHandedBackHDUs : 0
        var settings = tasksLeaveThisProcess ? spec.shareableSettings : spec.settings
        if spec.resume { settings[HDUSplitKeys.keepCommitted.name] = "true" }
        let job = JobDescription(
            jobID: spec.jobID,
            partitionCount: plan.count,
            inputs: { partition in
                plan.range(of: partition).map { inputs[indices[$0]].taskRecord }
            },
            steps: [step], settings: settings, options: options)

        let result = track { scheduler.submit(job) }.wait()
        collector.drain()
        if result.status == .failed, let reason = result.failureReason,
           reason.hasPrefix("could not check the committed outputs") {
            throw DriverError.lineageCheck(reason)
        }

        for partition in result.partitions {
            if partition.partition >= plan.count {
                settleHandedBack(partition, book: book, entries: entries)
                continue
            }
            let positions = plan.range(of: partition.partition)
            if partition.status == .succeeded {
                for position in positions where !book.isSplit(indices[position]) {
                    entries.setAttempts(partition.attempts, at: indices[position])
                }
                continue
            }
            let ran = partition.status == .failed
            let reason = partition.failureReasons.last ?? "not run: the job stopped"
            for position in positions where !book.isSplit(indices[position]) {
                let input = inputs[indices[position]]
                let names = spec.outputNames(for: input)
                let entry = ManifestEntry(
                    input: input.uri, catalog: names.first,
                    outcome: ran ? .failed : .notRun, attempts: partition.attempts,
                    executor: partition.executor,
                    error: ManifestEntry.errorLine(input: input.uri, message: ran
                        ? "failed after \(partition.attempts) attempts: \(reason)" : reason))
                entries.set(entry, at: indices[position], input: input, outputs: names)
                if ran { onEntry?(entry) }
            }
        }
    }

    /// Submits a job the way `cancel()` can reach it.
    func track(_ submit: () -> JobHandle) -> JobHandle {
        cancelLock.lock(); defer { cancelLock.unlock() }
        let handle = submit()
        activeHandle = handle
        if cancelled { handle.cancel() }
        return handle
    }

    /// At most this many HDUs a task hands back (a file with more is extracted in its one task).
    static let maxHandedBackHDUs = 10_000

    /// A handed-back partition (one HDU of a split input) as the job ended: its attempts, or why it
    /// did not commit; sets the input's entry once every HDU is accounted for.
    private func settleHandedBack(_ partition: PartitionResult, book: SplitBook, entries: EntryTable) {
        guard let (index, hdu, catalog) = book.child(partition.partition) else { return }
        let input = spec.inputs[index]
        let merged: (index: Int, entry: ManifestEntry)?
        if partition.status == .succeeded {
            merged = book.setAttempts(partition.attempts, of: partition.partition)
        } else {
            let ran = partition.status == .failed
            let reason = partition.failureReasons.last ?? "not run: the job stopped"
            merged = book.finish(partition.partition, entry: ManifestEntry(
                input: input.uri, catalog: catalog, outcome: ran ? .failed : .notRun, attempts: partition.attempts,
                executor: partition.executor,
                error: ManifestEntry.errorLine(input: input.uri, message: ran
                    ? "HDU \(hdu) failed after \(partition.attempts) attempts: \(reason)" : "HDU \(hdu): \(reason)")))
        }
        guard let merged else { return }
        entries.set(merged.entry, at: index, input: input, outputs: spec.outputNames(for: input))
        if merged.entry.outcome == .failed { onEntry?(merged.entry) }
    }

    /// Finds inputs by output name, for matching listings and earlier manifests to inputs.
    private func catalogIndex() -> CatalogIndex {
        let inputs = spec.inputs
        return CatalogIndex(count: inputs.count) { [spec] in spec.outputNames(for: inputs[$0]) }
    }

    /// An input whose catalog an earlier run committed; `before` is that run's entry, when known
    /// (its frame rows, if any, travel beside it as JSON).
    private func skippedEntry(_ input: InputFile, names: [String], bytes: Int, before: ManifestEntry?) -> ManifestEntry {
        var entry = ManifestEntry(input: input.uri, catalog: names.first, outcome: .skipped, attempts: 0,
                                  rows: before?.rows, bytes: bytes, sha256: before?.sha256,
                                  executor: before?.executor, outputs: names.count > 1 ? names : nil)
        entry.provenance = before?.provenance
        entry.frames = before?.frames
        return entry
    }

    /// Gives the skipped inputs the row counts, digests and provenance the previous run's manifest
    /// recorded, reading it a range at a time (never whole: 690 MB at 10^6 inputs) straight into
    /// `entries`, each line scanned once in place (`ManifestEntry.scan`; frame rows kept as their
    /// JSON). Every line of an input is taken, as skipped (its size set once the listing has it):
    /// `run` clears those whose catalog the listing does not have. A missing or unreadable
    /// manifest, or line, only loses those figures. A line that is already what the new manifest
    /// will say (`SkippedLine`, a resume of a resume) is noted by its range, to be copied; the
    /// manifest's version tag is returned for that (nil when it changed while being read).
    private func carryOverEarlierEntries(from output: ObjectStore, catalogs: CatalogIndex,
                                         into entries: EntryTable, book: SplitBook) -> String? {
        let tag = try? output.head(Self.manifestName)?.etag
        try? ManifestLines.forEachWithOffset(in: output, key: Self.manifestName) { line, offset in
            guard let scanned = try? ManifestEntry.scan(bytes: line), let catalog = scanned.entry.catalog else { return }
            var entry = scanned.entry
            if entry.split == true, let path = entry.provenance?.path {
                entry.frames = scanned.frames.flatMap { try? FrameRow.scanList($0) }
                // Its HDUs' row counts and digests, for those this run keeps.
                for index in catalogs.inputs(named: spec.parameters.format.catalogName(for: path))
                where spec.inputs[index].uri == entry.input {
                    book.noteEarlier(entry, at: index)
                }
                return
            }
            catalogs.forEachInput(named: catalog) { index in
                let input = spec.inputs[index]
                guard input.uri == entry.input else { return }
                let names = spec.outputNames(for: input)
                // Its bytes until the listing's size is set (`setBytes` keeps the line only when they agree).
                entries.set(skippedEntry(input, names: names, bytes: entry.bytes ?? 0, before: entry), at: index,
                            input: input, outputs: names, framesJSON: scanned.frames)
                if SkippedLine.matches(entry, input: input, outputs: names), SkippedLine.isWritersForm(line) {
                    entries.noteEarlierLine(offset..<offset + line.count, at: index)
                }
            }
        }
        guard let tag, (try? output.head(Self.manifestName)?.etag) == tag else { return nil }
        return tag
    }

    private func makeReport(_ tally: JobReport.Tally, seconds: Double) -> JobReport {
        let status: JobStatus = isCancelled ? .cancelled : tally.notRun > 0 ? .failed
            : tally.failed == 0 ? .succeeded : .completedWithFailures
        return JobReport(jobID: spec.jobID, status: status, inputs: tally.inputs, committed: tally.committed,
                         skipped: tally.skipped, failed: tally.failed, excluded: tally.excluded, sources: tally.sources,
                         seconds: seconds, output: spec.parameters.output, failures: tally.firstFailures,
                         taskSeconds: tally.taskSeconds, waitSeconds: tally.waitSeconds)
    }
}

/// Turns each succeeded task's records into checked manifest entries in the driver's
/// `EntryTable`, on a queue of its own so the scheduler's queue only hands them over.
final class EntryCollector: JobListener, Sendable {
    let spec: JobSpec
    /// The job's own partitions; those numbered beyond are HDUs its tasks handed back.
    let partitions: Int
    /// The inputs (indices into `spec.inputs`) whose entries a partition's records are, in order.
    let inputsOf: @Sendable (Int) -> [Int]
    let entries: EntryTable
    let book: SplitBook
    let onEntry: (@Sendable (ManifestEntry) -> Void)?
    let logger: Logger
    private let queue = DispatchQueue(label: "sextant.driver.entries")

    init(spec: JobSpec, partitions: Int, inputsOf: @escaping @Sendable (Int) -> [Int], entries: EntryTable,
         book: SplitBook, onEntry: (@Sendable (ManifestEntry) -> Void)?, logger: Logger) {
        self.spec = spec
        self.partitions = partitions
        self.inputsOf = inputsOf
        self.entries = entries
        self.book = book
        self.onEntry = onEntry
        self.logger = logger
    }

    /// Returns once every record handed over so far is in `entries`.
    func drain() { queue.sync {} }

    func taskEnded(_ event: TaskEndEvent) {
        guard case .succeeded = event.outcome else { return }
        let partition = event.attempt.partition, records = event.records, executor = event.executor
        let added = event.addedPartitions
        queue.async {
            if partition >= self.partitions {
                self.collectHDU(records, partition: partition, executor: executor)
            } else {
                self.collect(records, partition: partition, executor: executor, added: added)
            }
        }
    }

    /// The record of one HDU of a split input, from the partition its task handed back.
    private func collectHDU(_ records: [Data], partition: Int, executor: ExecutorID) {
        guard let (index, hdu, catalog) = book.child(partition) else {
            logger.warning("a result for partition \(partition), which no task handed back")
            return
        }
        let input = spec.inputs[index]
        var part = input
        part.hdu = hdu
        let entry: ManifestEntry
        do {
            entry = try RecordValidation.entries(records, inputs: [part], outputNames: { _ in [catalog] })[0]
        } catch {
            let reason = "invalid result from \(executor) for HDU \(hdu): \(error)"
            logger.warning("\(reason)")
            entry = ManifestEntry(input: input.uri, catalog: catalog, outcome: .failed, executor: executor,
                                  error: ManifestEntry.errorLine(input: input.uri, message: reason))
        }
        guard let merged = book.finish(partition, entry: entry) else { return }
        entries.set(merged.entry, at: index, input: input, outputs: spec.outputNames(for: input))
        onEntry?(merged.entry)
    }

    private func collect(_ records: [Data], partition: Int, executor: ExecutorID, added: Range<Int>?) {
        let indices = inputsOf(partition)
        let inputs = indices.map { spec.inputs[$0] }
        let checked: [RecordValidation.Checked]
        do {
            checked = try RecordValidation.checked(records, inputs: inputs, outputNames: spec.outputNames(for:))
        } catch {
            // A broken or hostile executor fails its partition's inputs, nothing more.
            let reason = "invalid result from \(executor): \(error)"
            logger.warning("\(reason)")
            checked = inputs.map { input in
                RecordValidation.Checked(entry: ManifestEntry(
                    input: input.uri, catalog: spec.outputNames(for: input).first, outcome: .failed, executor: executor,
                    error: ManifestEntry.errorLine(input: input.uri, message: reason)))
            }
        }
        var handedBack = ArraySlice(added.map(Array.init) ?? [])
        for ((index, input), record) in zip(zip(indices, inputs), checked) {
            let entry = record.entry
            if let parts = entry.splitParts, entry.outcome == .committed {
                // A re-run of a partition whose file is split already: the HDUs' own tasks account for it.
                guard !book.isSplit(index) else { continue }
                if SplitValidation.isValid(parts, input: input, format: spec.parameters.format),
                   book.begin(index, input: input, parts: parts, added: &handedBack) {
                    if let merged = book.mergedIfComplete(index) {  // every HDU kept from an earlier run
                        entries.set(merged, at: index, input: input, outputs: spec.outputNames(for: input))
                        onEntry?(merged)
                    }
                    continue
                }
                let failed = ManifestEntry(input: input.uri, catalog: entry.catalog, outcome: .failed, executor: executor,
                                           error: ManifestEntry.errorLine(input: input.uri,
                                                                          message: "invalid split from \(executor)"))
                entries.set(failed, at: index, input: input, outputs: spec.outputNames(for: input))
                onEntry?(failed)
                continue
            }
            entries.set(entry, at: index, input: input, outputs: spec.outputNames(for: input), framesJSON: record.framesJSON)
            onEntry?(entry)
        }
    }
}

enum DriverError: Error, CustomStringConvertible {
    case lineageCheck(String)

    var description: String {
        switch self {
        case .lineageCheck(let reason): return reason
        }
    }
}
