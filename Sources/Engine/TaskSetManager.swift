import Foundation

/// The state of one job's partitions: what is pending, running, done; attempts, failures,
/// and which partitions deserve a speculative copy. Used only on the scheduler's queue.
///
/// Per-partition state is a few small fields, so a million partitions cost tens of megabytes;
/// fresh partitions are handed out by a cursor, not a queue of a million indices.
/// @unchecked: confined to the scheduler's queue, which alone reads and changes its vars (the end-of-job
/// check hops off it and back with it, touching nothing).
final class TaskSetManager: @unchecked Sendable {
    enum Status: UInt8 {
        case pending, succeeded, failed, skipped, cancelled
        var isFinished: Bool { self != .pending }
    }

    struct Partition {
        var status: Status = .pending
        var running: UInt8 = 0
        var speculated = false
        var attempts: Int32 = 0
        var lost: Int32 = 0
        var recomputations: Int32 = 0
        var failures: [String] = []
        var records: [Data] = []
        var winner: ExecutorID?
        var lastFailedOn: ExecutorID?
    }

    let job: JobDescription
    let failFast: Bool
    let maxFailures: Int
    let startTime = DispatchTime.now()
    private(set) var partitions: [Partition]
    private(set) var finishedCount = 0
    private(set) var succeededDurations: [Double] = []
    private var nextFresh = 0
    /// Partitions to run again (failed attempt, lost executor, lost output), before fresh ones.
    private var retries: [Int] = []
    private var speculatable: [Int] = []
    private var nextAttempt = 0
    private var locality: LocalityTable
    /// Partitions tasks handed back (`TaskResult.addedPartitions`), after the job's own:
    /// partition `job.partitionCount + i` reads `added[i]`.
    private var added: [AddedPartition] = []
    /// Partitions whose handed-back work was taken: a later success of theirs (a speculative
    /// twin, a recomputation) adds nothing again.
    private var expanded: Set<Int> = []

    struct AddedPartition {
        var inputs: [String]
        /// The partition of the job's own that handed it back (directly or through another added one).
        var origin: Int
    }
    var endStatus: JobStatus?
    /// The end-of-job check of committed outputs is running (off the scheduler's queue).
    var verifying = false

    init(job: JobDescription, settings: EngineSettings) {
        self.job = job
        self.failFast = job.options.failFast ?? settings.failFast
        self.maxFailures = settings.maxFailures
        self.partitions = Array(repeating: Partition(), count: job.partitionCount)
        self.locality = LocalityTable(wait: settings.localityWait)
    }

    /// Notes which partitions are local to which of `executors` (at job start, and for
    /// executors that join later: only partitions not handed out yet).
    func assignLocality(_ executors: [ExecutorInfo]) {
        guard let inputs = job.options.preferredLocations, nextFresh < job.partitionCount else { return }
        locality.assign(partitions: nextFresh..<job.partitionCount, inputs: inputs, executors: executors)
    }

    /// The source records of `partition`, the job's own or one handed back.
    func inputs(_ partition: Int) -> [String] {
        partition < job.partitionCount ? job.inputs(partition) : added[partition - job.partitionCount].inputs
    }

    /// The job's own partition that `partition` descends from (itself for the job's own).
    func origin(of partition: Int) -> Int {
        partition < job.partitionCount ? partition : added[partition - job.partitionCount].origin
    }

    /// Appends the partitions `parent`'s success handed back; returns their indices, or nil
    /// when `parent` already handed back its work once (or gave none).
    func addPartitions(_ inputs: [[String]], from parent: Int) -> Range<Int>? {
        guard !inputs.isEmpty, expanded.insert(parent).inserted else { return nil }
        let first = partitions.count
        let origin = origin(of: parent)
        added += inputs.map { AddedPartition(inputs: $0, origin: origin) }
        partitions += Array(repeating: Partition(), count: inputs.count)
        return first..<partitions.count
    }

    private func isFresh(_ index: Int) -> Bool {
        partitions[index].status == .pending && partitions[index].running == 0 && partitions[index].attempts == 0
    }

    /// Attempts lost with their executor before a partition is failed: `maxFailures`, but never
    /// fewer than 2, so one executor killed from outside never fails the tasks it was running.
    var maxLostAttempts: Int { max(maxFailures, 2) }

    var partitionCount: Int { partitions.count }
    var isAllFinished: Bool { finishedCount == partitions.count }
    var succeededCount: Int { succeededDurations.count }

    /// Marks already-committed partitions as skipped (resume); returns how many.
    func skipCommitted(_ isCommitted: (Int) -> Bool) -> Int {
        var skipped = 0
        for index in partitions.indices where isCommitted(index) {
            partitions[index].status = .skipped
            skipped += 1
        }
        finishedCount += skipped
        return skipped
    }

    /// The next partition to run on `executor`: retries first, then fresh partitions,
    /// then speculative copies. Returns nil when there is nothing for it.
    func nextTask(for executor: ExecutorID, otherExecutorsUsable: Bool,
                  isAlive: (ExecutorID) -> Bool = { _ in true }) -> (partition: Int, speculative: Bool)? {
        // A retry avoids the executor it last failed on while another can take it.
        if let slot = retries.firstIndex(where: { !otherExecutorsUsable || partitions[$0].lastFailedOn != executor }) {
            return (retries.remove(at: slot), false)
        }
        if !locality.isEmpty {
            if let local = locality.nextLocal(for: executor, isRunnable: isFresh) { return (local, false) }
            if let waited = locality.nextDeferred(for: executor, isRunnable: isFresh, isAlive: isAlive) {
                return (waited, false)
            }
        }
        while nextFresh < partitions.count {
            let index = nextFresh
            nextFresh += 1
            guard isFresh(index) else { continue }
            // Another executor's local input waits for it a little (delay scheduling).
            if !locality.isEmpty, !locality.mayRun(index, on: executor, isAlive: isAlive) {
                locality.postpone(index)
                continue
            }
            return (index, false)
        }
        if let slot = speculatable.firstIndex(where: {
            canSpeculate($0, on: executor, otherExecutorsUsable: otherExecutorsUsable)
        }) {
            let index = speculatable.remove(at: slot)
            partitions[index].speculated = true
            return (index, true)
        }
        return nil
    }

    var hasPendingWork: Bool {
        !retries.isEmpty || nextFresh < partitions.count || !speculatable.isEmpty || locality.hasQueuedWork
    }

    func makeAttempt(partition: Int) -> TaskAttemptID {
        defer { nextAttempt += 1 }
        partitions[partition].attempts += 1
        partitions[partition].running += 1
        return TaskAttemptID(jobID: job.jobID, partition: partition, attempt: nextAttempt)
    }

    // MARK: Outcomes

    func succeeded(partition: Int, records: [Data], executor: ExecutorID, duration: Double) {
        partitions[partition].status = .succeeded
        if job.options.retainsRecords { partitions[partition].records = records }
        partitions[partition].winner = executor
        succeededDurations.append(duration)
        finishedCount += 1
    }

    /// Records a counted failure; returns true when the partition has now exhausted its attempts.
    func failed(partition: Int, reason: String, executor: ExecutorID) -> Bool {
        partitions[partition].failures.append(reason)
        partitions[partition].lastFailedOn = executor
        if partitions[partition].failures.count >= maxFailures || job.options.isFatalFailure?(reason) == true {
            partitions[partition].status = .failed
            finishedCount += 1
            return true
        }
        requeueIfIdle(partition)
        return false
    }

    /// An attempt ended without counting (lost executor, cancelled): run it again if nothing else runs it.
    /// Returns true when the partition has now gone down with its executor `maxLostAttempts` times
    /// and is failed instead: its task is likely what kills executors (a native crash), and running
    /// it again and again would take every executor down in turn.
    @discardableResult
    func attemptEnded(partition: Int, lost: Bool, reason: String? = nil) -> Bool {
        partitions[partition].running -= 1
        if lost { partitions[partition].lost += 1 }
        guard !partitions[partition].status.isFinished else { return false }
        if lost, partitions[partition].lost >= maxLostAttempts, partitions[partition].running == 0 {
            partitions[partition].failures.append(
                "lost with its executor \(partitions[partition].lost) times (the task may be crashing it)"
                + (reason.map { "; last: \($0)" } ?? ""))
            partitions[partition].status = .failed
            finishedCount += 1
            return true
        }
        requeueIfIdle(partition)
        return false
    }

    func attemptFinished(partition: Int) {
        partitions[partition].running -= 1
    }

    /// An attempt its executor handed back unstarted, to be launched elsewhere at once: it never ran, so
    /// it is not one of the partition's attempts.
    func attemptWithdrawn(partition: Int) {
        partitions[partition].running -= 1
        partitions[partition].attempts -= 1
    }

    /// A committed output is gone: compute it again from lineage. Returns false when it
    /// has been lost too often and is reported failed instead.
    func outputLost(partition: Int) -> Bool {
        guard partitions[partition].status == .succeeded else { return true }
        partitions[partition].recomputations += 1
        finishedCount -= 1
        succeededDurations.removeLast()
        partitions[partition].records = []
        partitions[partition].winner = nil
        partitions[partition].speculated = false
        if Int(partitions[partition].recomputations) > maxFailures {
            partitions[partition].failures.append("output lost after commit \(partitions[partition].recomputations) times")
            partitions[partition].status = .failed
            finishedCount += 1
            return false
        }
        partitions[partition].status = .pending
        requeueIfIdle(partition)
        return true
    }

    private func requeueIfIdle(_ partition: Int) {
        guard partitions[partition].running == 0, !retries.contains(partition) else { return }
        partitions[partition].speculated = false
        retries.append(partition)
    }

    // MARK: Speculation

    /// The runtime beyond which a running attempt counts as a straggler, or nil while
    /// too few partitions have succeeded (Spark's quantile rule).
    func speculationThreshold(_ settings: EngineSettings) -> Double? {
        let needed = max(1, Int((settings.speculationQuantile * Double(partitions.count)).rounded(.down)))
        let count = succeededDurations.count
        guard count >= needed else { return nil }
        // Sorting a million durations every check would cost more than it saves:
        // refresh the median only when the successes grew by 1%.
        if medianCache == nil || count < 1000 || count >= medianCache!.count + count / 100 {
            medianCache = (count, succeededDurations.sorted()[count / 2])
        }
        return max(settings.speculationMinRuntime, settings.speculationMultiplier * medianCache!.median)
    }

    private var medianCache: (count: Int, median: Double)?

    func markSpeculatable(_ partition: Int) {
        let state = partitions[partition]
        speculatable.removeAll { partitions[$0].status.isFinished }
        guard state.status == .pending, state.running == 1, !state.speculated,
              !speculatable.contains(partition) else { return }
        speculatable.append(partition)
    }

    private var runningOn: [Int: ExecutorID] = [:]

    func noteRunning(partition: Int, on executor: ExecutorID) { runningOn[partition] = executor }
    func noteStopped(partition: Int, on executor: ExecutorID) {
        if runningOn[partition] == executor { runningOn[partition] = nil }
    }

    /// A copy runs only while the straggler alone runs, and elsewhere than the straggler
    /// unless this is the only executor (local mode: another slot of the same process).
    private func canSpeculate(_ partition: Int, on executor: ExecutorID, otherExecutorsUsable: Bool) -> Bool {
        let state = partitions[partition]
        return state.status == .pending && state.running == 1
            && (runningOn[partition] != executor || !otherExecutorsUsable)
    }

    // MARK: Ending

    /// Marks every unfinished partition cancelled.
    func cancelUnfinished() {
        for index in partitions.indices where !partitions[index].status.isFinished {
            partitions[index].status = .cancelled
        }
        retries = []
        speculatable = []
        nextFresh = partitions.count
    }

    func result(status: JobStatus, failureReason: String?) -> JobResult {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - startTime.uptimeNanoseconds) / 1e9
        let results = partitions.enumerated().map { index, state in
            var result = PartitionResult(partition: index,
                                         status: PartitionStatus(state.status),
                                         attempts: Int(state.attempts), failureReasons: state.failures,
                                         lostAttempts: Int(state.lost), recomputations: Int(state.recomputations),
                                         executor: state.winner, records: state.records)
            if index >= job.partitionCount { result.origin = origin(of: index) }
            return result
        }
        return JobResult(jobID: job.jobID, status: status, failureReason: failureReason, partitions: results,
                         duration: elapsed)
    }
}

extension PartitionStatus {
    init(_ status: TaskSetManager.Status) {
        switch status {
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .skipped: self = .skipped
        case .pending, .cancelled: self = .cancelled
        }
    }
}
