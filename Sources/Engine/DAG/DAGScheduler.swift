import Foundation
import Logging

/// Runs jobs whose lineage has shuffles (Spark's DAGScheduler): cuts the lineage into stages
/// at each shuffle, runs a stage once every map output it reads exists, and recovers from
/// fetch failures by recomputing only the map outputs a reducer could not fetch.
///
/// Each stage attempt is one job of the `TaskScheduler` (retries, speculation, exclusion and
/// fencing of stale task results work as for any job), over all of the stage's partitions,
/// with those whose output already exists skipped. Map outputs outlive the job that made
/// them, so a second action on the same shuffled dataset skips its map stages.
/// @unchecked: `lock` guards `shuffleIDs` and `running`.
public final class DAGScheduler: @unchecked Sendable {
    public let tracker = MapOutputTracker()
    let scheduler: TaskScheduler
    let store: ShuffleStore
    let maxStageAttempts: Int
    let logger: Logger
    private let lock = NSLock()
    private var shuffleIDs: Set<String> = []
    private var running: [String: DAGJob] = [:]

    init(scheduler: TaskScheduler, store: ShuffleStore, settings: EngineSettings, logger: Logger) {
        self.scheduler = scheduler
        self.store = store
        self.maxStageAttempts = settings.maxStageAttempts
        self.logger = logger
        scheduler.addListener(ExecutorLossListener(tracker: tracker, store: store))
    }

    func submit(source: Source, steps: [OperatorStep], settings: [String: String], options: JobOptions,
                jobID: String) -> JobHandle {
        let handle = JobHandle(jobID: jobID) { [weak self] in self?.cancel(jobID: jobID) }
        let job = DAGJob(jobID: jobID, source: source, steps: steps, settings: settings, options: options, dag: self)
        lock.lock()
        running[jobID] = job
        job.shuffles.forEach { shuffleIDs.insert($0.id) }
        lock.unlock()
        // A thread of its own: the job blocks on each stage, and must not hold a pool thread the
        // tasks may need.
        let thread = Thread {
            let result = job.run()
            self.lock.lock()
            self.running[jobID] = nil
            self.lock.unlock()
            handle.complete(result)
        }
        thread.name = "sextant.dag.\(jobID)"
        thread.start()
        return handle
    }

    func cancel(jobID: String) {
        lock.lock()
        let job = running[jobID]
        lock.unlock()
        job?.cancel()
    }

    /// Deletes every shuffle this scheduler ran (`EngineContext.stop()`).
    func removeShuffles() {
        lock.lock()
        let ids = shuffleIDs
        shuffleIDs = []
        lock.unlock()
        for id in ids {
            store.removeShuffle(id)
            tracker.remove(shuffle: id)
        }
    }
}

/// Why a job with shuffles stopped before its result stage could finish.
struct StageAbort: Error {
    var status: JobStatus
    var reason: String?

    static let cancelled = StageAbort(status: .cancelled, reason: nil)
    static func failed(_ reason: String) -> StageAbort { StageAbort(status: .failed, reason: reason) }
}

/// One job with shuffles, run on its own thread: stage after stage, each waited for.
/// @unchecked: `lock` guards `cancelled` and `current` (a cancel comes from any thread);
/// `reports`, `attempts` and `failedAttempts` are touched only by the job's own thread.
final class DAGJob: @unchecked Sendable {
    let jobID: String
    let source: Source
    let steps: [OperatorStep]
    let settings: [String: String]
    let options: JobOptions
    unowned let dag: DAGScheduler
    /// Map stages, the first shuffle first; the result stage comes after them.
    let shuffles: [ShuffleDependency]

    private let lock = NSLock()
    private var cancelled = false
    private var current: JobHandle?
    private var reports: [StageReport] = []
    private var failedAttempts: [Int: Int] = [:]
    private var attempts: [Int: Int] = [:]
    private let started = DispatchTime.now()

    init(jobID: String, source: Source, steps: [OperatorStep], settings: [String: String], options: JobOptions,
         dag: DAGScheduler) {
        self.jobID = jobID
        self.source = source
        self.steps = steps
        self.settings = settings
        self.options = options
        self.dag = dag
        self.shuffles = (source.shuffle.map { [$0] + $0.ancestors } ?? []).reversed()
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let handle = current
        lock.unlock()
        handle?.cancel()
    }

    private var resultStage: Int { shuffles.count }

    private func stageNumber(of dependency: ShuffleDependency) -> Int {
        shuffles.firstIndex { $0 === dependency }!
    }

    func run() -> JobResult {
        let count = source.plan.count
        var results: [PartitionResult?] = Array(repeating: nil, count: count)
        var status = JobStatus.succeeded
        var failureReason: String?
        do {
            while true {
                if let shuffle = source.shuffle { try materialize(shuffle) }
                let done = results.map { $0 != nil }
                let outcome = try runStage(resultStage, kind: .result, source: source, steps: steps,
                                           shuffleID: nil, done: done)
                merge(outcome.result, into: &results)
                if outcome.fetchFailures.isEmpty && !outcome.parentsMissing { break }
                try noteFailedAttempt(resultStage, outcome)
            }
            if results.contains(where: { $0?.status == .failed }) { status = .completedWithFailures }
        } catch let abort as StageAbort {
            status = abort.status
            failureReason = abort.reason
        } catch {
            status = .failed
            failureReason = "\(error)"
        }
        let partitions = results.enumerated().map { index, result in
            result ?? PartitionResult(partition: index, status: .cancelled, attempts: 0, failureReasons: [],
                                      lostAttempts: 0, recomputations: 0, executor: nil, records: [])
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        dag.logger.info("job ended", metadata: ["job": "\(jobID)", "status": "\(status)",
                                                "stages": "\(reports.count)"])
        return JobResult(jobID: jobID, status: status, failureReason: failureReason, partitions: partitions,
                         duration: elapsed, stages: reports)
    }

    /// Makes sure every map output of `dependency` exists, computing its missing ones (and,
    /// first, any missing map outputs they read).
    private func materialize(_ dependency: ShuffleDependency) throws {
        let stage = stageNumber(of: dependency)
        let binary = binaryValues(for: dependency)
        dag.tracker.register(shuffle: dependency.id, mapPartitions: dependency.mapPartitions)
        while true {
            if let parent = dependency.parent.shuffle { try materialize(parent) }
            if dag.tracker.missing(shuffle: dependency.id).isEmpty { return }
            let outcome = try runStage(stage, kind: .shuffleMap(shuffleID: dependency.id), source: dependency.parent,
                                       steps: try dependency.mapStageSteps(binaryValues: binary),
                                       shuffleID: dependency.id, done: nil)
            if let failed = outcome.result.partitions.first(where: {
                $0.status == .failed && FetchFailure(message: $0.failureReasons.last ?? "") == nil
            }) {
                throw StageAbort.failed(
                    "stage \(stage) (map side of \(dependency.id)): partition \(failed.partition) failed: "
                        + (failed.failureReasons.last ?? "no reason given"))
            }
            if dag.tracker.missing(shuffle: dependency.id).isEmpty {
                failedAttempts[stage] = 0  // the count is of consecutive failed attempts
                return
            }
            try noteFailedAttempt(stage, outcome)
        }
    }

    /// Binary values for a shuffle when the stage that reads it decodes them in a step of its own
    /// (a read whose records are the task's output must give JSON). Decided when the shuffle is
    /// first written; a later job that needs JSON from binary outputs drops them, and they are
    /// made again as JSON.
    private func binaryValues(for dependency: ShuffleDependency) -> Bool {
        let consumer = source.shuffle === dependency ? steps
            : shuffles.first { $0.parent.shuffle === dependency }?.mapSteps ?? []
        let decoded = consumer.firstIndex { $0.name == ShuffleStep.read }.map { $0 + 1 < consumer.count } ?? false
        return dependency.binaryValues.mutate { current -> Bool in
            if current == true && !decoded { dag.tracker.remove(shuffle: dependency.id) }
            if current == nil || !decoded { current = decoded }
            return current!
        }
    }

    struct StageOutcome {
        var result: JobResult
        var fetchFailures: [FetchFailure]
        /// The outputs it reads were lost before it could start.
        var parentsMissing: Bool
    }

    /// Runs one attempt of a stage over the partitions not `done` (map stages: those without
    /// a registered output).
    private func runStage(_ stage: Int, kind: StageReport.Kind, source: Source, steps: [OperatorStep],
                          shuffleID: String?, done: [Bool]?) throws -> StageOutcome {
        let attempt = (attempts[stage] ?? 0) + 1
        attempts[stage] = attempt
        let stageJobID = "\(jobID).s\(stage).\(attempt)"
        // Each read's map locations are published once for the stage attempt; tasks name them.
        let resolved = try steps.resolvingShuffleReads { id -> String? in
            guard let locations = dag.tracker.locations(shuffle: id) else { return nil }
            let name = "\(id)/locations-\(stageJobID)"
            try dag.store.publish(try JSONEncoder().encode(locations), as: name)
            return name
        }
        guard let resolved else {
            let empty = JobResult(jobID: stageJobID, status: .cancelled, partitions: [], duration: 0)
            return StageOutcome(result: empty, fetchFailures: [], parentsMissing: true)
        }
        let listener = StageListener(shuffleID: shuffleID, tracker: dag.tracker,
                                     done: done ?? Array(repeating: false, count: source.plan.count),
                                     forward: options.listener)
        var stageOptions = JobOptions(failFast: false,
                                      outputCheck: OutputCheck(skipCommitted: true,
                                                               outputsAreExecutorLocal: shuffleID != nil
                                                                   && !dag.store.outputsSurviveExecutorLoss,
                                                               isCommitted: { [listener] in listener.isDone($0) }),
                                      listener: listener,
                                      preferredLocations: source.shuffle == nil ? options.preferredLocations : nil)
        stageOptions.isFatalFailure = { FetchFailure(message: $0) != nil }
        // A map task's one kept record is its status, which the listener has registered.
        stageOptions.retainsRecords = shuffleID == nil && options.retainsRecords
        let description = JobDescription(jobID: stageJobID, partitionCount: source.plan.count,
                                         inputs: { source.inputs(of: $0) }, steps: resolved,
                                         settings: settings, options: stageOptions)
        lock.lock()
        if cancelled { lock.unlock(); throw StageAbort.cancelled }
        let handle = dag.scheduler.submit(description)
        current = handle
        lock.unlock()
        dag.logger.info("stage started", metadata: ["job": "\(jobID)", "stage": "\(stage)", "attempt": "\(attempt)",
                                                    "kind": "\(kind)"])
        let result = handle.wait()
        lock.lock()
        current = nil
        let wasCancelled = cancelled
        lock.unlock()
        if wasCancelled || result.status == .cancelled { throw StageAbort.cancelled }
        if result.status == .failed {
            throw StageAbort.failed("stage \(stage) attempt \(attempt): \(result.failureReason ?? "failed")")
        }
        let failures = result.partitions.compactMap { partition -> FetchFailure? in
            guard partition.status == .failed else { return nil }
            return FetchFailure(message: partition.failureReasons.last ?? "")
        }
        let totals = listener.totals
        reports.append(StageReport(stage: stage, attempt: attempt, kind: kind, jobID: stageJobID,
                                   computed: result.partitions.filter { $0.status == .succeeded }.map(\.partition),
                                   recomputedAfterLoss: result.partitions.filter { $0.recomputations > 0 }.map(\.partition),
                                   fetchFailures: failures.flatMap(\.outputs), shuffleRecords: totals.records,
                                   shuffleBytes: totals.bytes, duration: result.duration))
        return StageOutcome(result: result, fetchFailures: failures, parentsMissing: false)
    }

    /// A stage attempt could not finish for lack of map outputs: forget the ones it could not
    /// fetch (only if still the registered attempt) and let the caller retry, unless the stage
    /// has failed `sextant.stage.maxConsecutiveAttempts` times.
    private func noteFailedAttempt(_ stage: Int, _ outcome: StageOutcome) throws {
        var dropped = 0
        for failure in outcome.fetchFailures {
            for output in failure.outputs where dag.tracker.invalidate(output) { dropped += 1 }
        }
        let failed = (failedAttempts[stage] ?? 0) + 1
        failedAttempts[stage] = failed
        let reason = outcome.fetchFailures.first?.reason ?? "the map outputs it reads were lost before it started"
        dag.logger.warning("stage lost map outputs; recomputing them",
                           metadata: ["job": "\(jobID)", "stage": "\(stage)", "dropped": "\(dropped)",
                                      "reason": "\(reason)"])
        if failed >= dag.maxStageAttempts {
            throw StageAbort.failed(
                "stage \(stage) failed \(failed) consecutive attempts for lack of map outputs "
                    + "(\(SchedulerKeys.maxStageAttempts.name) = \(dag.maxStageAttempts)); last: \(reason)")
        }
    }

    /// Keeps each partition's first final outcome; a fetch-failed partition waits for the retry.
    private func merge(_ result: JobResult, into results: inout [PartitionResult?]) {
        for partition in result.partitions where results[partition.partition] == nil {
            switch partition.status {
            case .succeeded:
                results[partition.partition] = partition
            case .failed where FetchFailure(message: partition.failureReasons.last ?? "") == nil:
                results[partition.partition] = partition
            default:
                continue
            }
        }
    }
}
