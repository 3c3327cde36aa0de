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

        let existing = try committedCatalogs(in: output)
        var entries: [Int: ManifestEntry] = [:]
        var pending: [Int] = []
        for (index, input) in spec.inputs.enumerated() {
            let names = spec.outputNames(for: input)
            let sizes = names.compactMap { existing.keys[$0] }
            if spec.resume, sizes.count == names.count {
                let earlier = existing.entries[input.uri]
                entries[index] = ManifestEntry(input: input.uri, catalog: names.first, outcome: .skipped,
                                               attempts: 0, rows: earlier?.rows, bytes: sizes.reduce(0, +),
                                               sha256: earlier?.sha256, executor: earlier?.executor,
                                               outputs: names.count > 1 ? names : nil)
                entries[index]?.provenance = earlier?.provenance
                onEntry?(entries[index]!)
            } else {
                pending.append(index)
            }
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
            let present = try committedCatalogs(in: output).keys
            pending = results.filter { index, entry in
                entry.outcome == .committed && spec.outputNames(for: spec.inputs[index]).contains { present[$0] == nil }
            }.map(\.key).sorted()
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

        let ordered = spec.inputs.indices.map { entries[$0] ?? ManifestEntry(
            input: spec.inputs[$0].uri, outcome: .notRun, attempts: 0,
            error: ManifestEntry.errorLine(input: spec.inputs[$0].uri, message: "not run: the job stopped")) }
        let manifest = try ManifestEntry.encodeLines(ordered)
        try output.put(Self.manifestName, data: manifest)
        try output.put(JobProvenance.fileName, data: try JobProvenance(
            spec: spec, entries: ordered, manifest: manifest, started: started, finished: Date()).encoded())
        let report = makeReport(ordered, seconds: Date().timeIntervalSince(started))
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
                                                               outputNames: spec.outputNames)
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

    /// Catalog names already in the output, with their sizes, and the previous manifest's entries.
    private func committedCatalogs(in output: ObjectStore) throws -> (keys: [String: Int], entries: [String: ManifestEntry]) {
        var keys: [String: Int] = [:]
        for object in try output.listAll() where spec.mayBeOutput(object.key) {
            keys[object.key] = object.size
        }
        var entries: [String: ManifestEntry] = [:]
        if spec.resume, let data = try? output.get(Self.manifestName) {
            for entry in (try? ManifestEntry.decodeLines(data)) ?? [] { entries[entry.input] = entry }
        }
        return (keys, entries)
    }

    private func makeReport(_ entries: [ManifestEntry], seconds: Double) -> JobReport {
        func count(_ outcome: ManifestEntry.Outcome) -> Int { entries.filter { $0.outcome == outcome }.count }
        let failed = entries.filter { $0.outcome == .failed }
        let status: JobReport.Status = count(.notRun) > 0 || isCancelled ? .stopped
            : failed.isEmpty ? .succeeded : .completedWithFailures
        return JobReport(jobID: spec.jobID, status: status, inputs: entries.count, committed: count(.committed),
                         skipped: count(.skipped), failed: failed.count,
                         sources: entries.saturatingSum { $0.outcome == .committed ? $0.rows ?? 0 : 0 },
                         seconds: seconds, output: spec.parameters.output,
                         failures: failed.prefix(10).map { $0.error ?? ManifestEntry.errorLine(input: $0.input, message: "failed") })
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
