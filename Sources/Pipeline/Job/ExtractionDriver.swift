import Engine
import Foundation
import Logging
import Storage

/// Runs a JobSpec on any executor backend (local threads or a cluster) with the engine's
/// scheduler, then writes the manifest and the _SUCCESS marker. The driver of `sextant run`
/// and of a master's jobs alike.
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
    /// Called once per input as its outcome becomes known (progress bars, UIs).
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

        let catalogs = catalogIndex()
        // One slot an input, in input order (an array, not a dictionary: 10^6 inputs).
        var entries = [ManifestEntry?](repeating: nil, count: spec.inputs.count)
        var pending: [Int] = []
        if spec.resume {
            let existing = try catalogs.committedSizes(in: output, mayBeOutput: spec.mayBeOutput)
            let earlier = earlierEntries(in: output, committed: existing, catalogs: catalogs)
            for (index, input) in spec.inputs.enumerated() {
                guard let size = existing[index] else {
                    pending.append(index)
                    continue
                }
                let before = earlier[index]
                let names = spec.outputNames(for: input)
                let entry = ManifestEntry(input: input.uri, catalog: names.first, outcome: .skipped, attempts: 0,
                                          rows: before?.rows, bytes: size, sha256: before?.sha256,
                                          executor: before?.executor, outputs: names.count > 1 ? names : nil)
                entries[index] = entry
                entries[index]?.provenance = before?.provenance
                onEntry?(entries[index]!)
            }
        } else {
            pending = Array(spec.inputs.indices)
        }

        let scheduler = TaskScheduler(backend: backend, settings: engineSettings)
        // Before start, so they also hear the executors the backend already knows.
        listeners.forEach(scheduler.addListener)
        scheduler.start()
        defer { scheduler.stop() }
        if let pipe = spec.pipe {
            try PipePreflight.check(pipe, executors: tasksLeaveThisProcess
                                        ? backend.knownExecutors() ?? scheduler.executorSnapshot().map(\.info) : nil)
        }

        // Run, then verify every committed catalog is really there; what went missing
        // (an executor-local disk died, someone deleted it) is recomputed from lineage.
        var round = 0
        while !pending.isEmpty, !isCancelled {
            let results = try runRound(pending, round: round, scheduler: scheduler)
            for (index, entry) in results { entries[index] = entry }
            if results.values.contains(where: { $0.outcome == .notRun }) {
                pending = []  // stopped: what did not run says so; nothing to verify
                break
            }
            let present = try catalogs.committedSizes(in: output, mayBeOutput: spec.mayBeOutput)
            pending = results.filter { $0.value.outcome == .committed && present[$0.key] == nil }
                .map(\.key).sorted()
            round += 1
            if !pending.isEmpty {
                logger.warning("\(pending.count) committed catalogs are missing; recomputing them (round \(round))")
            }
            if round > engineSettings.maxFailures { break }
        }
        // Catalogs that kept vanishing are not claimed as committed.
        for index in pending where !isCancelled {
            entries[index]?.outcome = .failed
            entries[index]?.error = "\(spec.inputs[index].uri): its catalog went missing after every one of \(round) commits"
        }

        // Every task has ended: what an executor killed mid-commit left is garbage. (A fenced
        // attempt still running somewhere only loses its own put, whose result is discarded.)
        if let removed = try? output.removeAbandonedWrites(), removed > 0 {
            logger.info("removed \(removed) temporary files left by writers that died mid-commit")
        }

        // Written as a stream through a temporary file: a line at a time, never the whole manifest in memory.
        let manifest = try ManifestEntry.LineWriter()
        defer { manifest.discard() }
        var tally = JobReport.Tally()
        for index in spec.inputs.indices {
            let entry = entries[index] ?? ManifestEntry(
                input: spec.inputs[index].uri, outcome: .notRun, attempts: 0,
                error: ManifestEntry.errorLine(input: spec.inputs[index].uri, message: "not run: the job stopped"))
            try manifest.append(entry)
            tally.add(entry)
        }
        try output.put(Self.manifestName, contentsOf: try manifest.finish())
        try output.put(JobProvenance.fileName, data: try JobProvenance(
            spec: spec, executors: tally.executors, inputs: tally.inputs, manifestSHA256: manifest.sha256,
            started: started, finished: Date()).encoded())
        let report = makeReport(tally, seconds: Date().timeIntervalSince(started))
        if report.status != .stopped { try output.put(Self.successName, data: Data()) }
        return report
    }

    private var isCancelled: Bool {
        cancelLock.lock(); defer { cancelLock.unlock() }
        return cancelled
    }

    /// One scheduler job over the inputs at `indices`; returns their manifest entries.
    private func runRound(_ indices: [Int], round: Int, scheduler: TaskScheduler) throws -> [Int: ManifestEntry] {
        let plan = try spec.partitionPlan(for: indices.map { spec.inputs[$0] })
        let inputs = spec.inputs
        let step = try spec.operatorStep()
        let listener = EntryListener(onEntry: onEntry)
        let job = JobDescription(
            jobID: round == 0 ? spec.jobID : "\(spec.jobID)-r\(round)",
            partitionCount: plan.count,
            inputs: { partition in
                plan.range(of: partition).map { position in
                    String(decoding: (try? JSONEncoder().encode(inputs[indices[position]])) ?? Data(), as: UTF8.self)
                }
            },
            steps: [step], settings: tasksLeaveThisProcess ? spec.shareableSettings : spec.settings,
            options: JobOptions(listener: listener, preferredLocations: { partition in
                // Local paths only: an executor's sextant.executor.localPaths name its own disks.
                plan.range(of: partition).map { inputs[indices[$0]].uri }.filter { !$0.contains("://") }
            }))

        let handle: JobHandle = {
            cancelLock.lock(); defer { cancelLock.unlock() }
            let handle = scheduler.submit(job)
            activeHandle = handle
            if cancelled { handle.cancel() }
            return handle
        }()
        let result = handle.wait()

        var entries: [Int: ManifestEntry] = [:]
        for partition in result.partitions {
            let positions = plan.range(of: partition.partition)
            var invalid: String?
            if partition.status == .succeeded {
                do {
                    let records = try RecordValidation.entries(partition.records,
                                                               inputs: positions.map { inputs[indices[$0]] },
                                                               outputNames: spec.outputNames(for:))
                    for (position, var entry) in zip(positions, records) {
                        entry.attempts = partition.attempts
                        entries[indices[position]] = entry
                    }
                    continue
                } catch {
                    invalid = "invalid result from \(partition.executor ?? "an executor"): \(error)"
                    logger.warning("\(invalid!)")
                }
            }
            let ran = partition.status == .failed || invalid != nil
            let reason = invalid ?? partition.failureReasons.last ?? "not run: the job stopped"
            for position in positions {
                let input = inputs[indices[position]]
                let entry = ManifestEntry(
                    input: input.uri, catalog: spec.outputNames(for: input).first,
                    outcome: ran ? .failed : .notRun, attempts: partition.attempts,
                    executor: partition.executor,
                    error: ManifestEntry.errorLine(input: input.uri, message: ran
                        ? "failed after \(partition.attempts) attempts: \(reason)" : reason))
                entries[indices[position]] = entry
                if ran { onEntry?(entry) }
            }
        }
        return entries
    }

    /// Finds inputs by output name, for matching listings and earlier manifests to inputs.
    private func catalogIndex() -> CatalogIndex {
        let inputs = spec.inputs
        return CatalogIndex(count: inputs.count) { [spec] in spec.outputNames(for: inputs[$0]) }
    }

    /// The previous run's manifest entries of the inputs whose catalogs are committed, read
    /// a line at a time. A missing or unreadable manifest only loses their row counts and digests.
    private func earlierEntries(in output: ObjectStore, committed: [Int?], catalogs: CatalogIndex) -> [Int: ManifestEntry] {
        guard let data = try? output.get(Self.manifestName) else { return [:] }
        var entries: [Int: ManifestEntry] = [:]
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let entry = try? decoder.decode(ManifestEntry.self, from: Data(line)), let catalog = entry.catalog else { continue }
            for index in catalogs.inputs(named: catalog) where committed[index] != nil && spec.inputs[index].uri == entry.input {
                entries[index] = entry
            }
        }
        return entries
    }

    private func makeReport(_ tally: JobReport.Tally, seconds: Double) -> JobReport {
        let status: JobReport.Status = tally.notRun > 0 || isCancelled ? .stopped
            : tally.failed == 0 ? .succeeded : .completedWithFailures
        return JobReport(jobID: spec.jobID, status: status, inputs: tally.inputs, committed: tally.committed,
                         skipped: tally.skipped, failed: tally.failed, sources: tally.sources,
                         seconds: seconds, output: spec.parameters.output, failures: tally.firstFailures)
    }
}

/// Turns task ends into per-input progress.
private final class EntryListener: JobListener, @unchecked Sendable {
    let onEntry: (@Sendable (ManifestEntry) -> Void)?
    init(onEntry: (@Sendable (ManifestEntry) -> Void)?) { self.onEntry = onEntry }

    func taskEnded(_ event: TaskEndEvent) {
        guard let onEntry, case .succeeded = event.outcome else { return }
        for data in event.records {
            // Not yet checked against its input (the driver does that): bounded for displays and sums.
            if let entry = try? JSONDecoder().decode(ManifestEntry.self, from: data) { onEntry(entry.bounded()) }
        }
    }
}
