import Foundation

/// One job as the scheduler sees it: how many partitions, how to get a partition's
/// inputs, and the chain of operators to run on each. `Dataset` builds these; callers
/// with their own planning may build them directly.
public struct JobDescription: Sendable {
    public var jobID: String
    /// The job's own partitions; tasks may add more (`JobOptions.maxAddedPartitionsPerTask`).
    public var partitionCount: Int
    /// The source records of one partition; called when a task is launched, so the
    /// scheduler never holds copies of the inputs.
    public var inputs: @Sendable (Int) -> [String]
    public var steps: [OperatorStep]
    /// Given to every task (`TaskSpec.settings`, `TaskContext.settings`).
    public var settings: [String: String]
    public var options: JobOptions

    public init(jobID: String = JobDescription.makeJobID(), partitionCount: Int,
                inputs: @escaping @Sendable (Int) -> [String], steps: [OperatorStep],
                settings: [String: String] = [:], options: JobOptions = JobOptions()) {
        self.jobID = jobID
        self.partitionCount = partitionCount
        self.inputs = inputs
        self.steps = steps
        self.settings = settings
        self.options = options
    }

    public static func makeJobID() -> String {
        "job-" + UUID().uuidString.prefix(8).lowercased()
    }
}

/// Per-job choices.
public struct JobOptions: Sendable {
    /// nil: use `sextant.job.failFast`.
    public var failFast: Bool?
    /// Lets the scheduler verify committed outputs and recompute lost ones from lineage.
    public var outputCheck: OutputCheck?
    /// Receives this job's events on the scheduler's queue.
    public var listener: (any JobListener)?
    /// The paths partition `i` reads, matched against executors' `localPaths` so an input on
    /// one executor's own disk runs there (after `sextant.locality.wait`, anywhere). Nil: no preference.
    public var preferredLocations: (@Sendable (Int) -> [String])?
    /// Failures this says are deterministic are not retried: the partition fails at once
    /// (the DAG scheduler's fetch failures: retrying the reducer cannot bring a map output back).
    public var isFatalFailure: (@Sendable (String) -> Bool)?
    /// False: the scheduler hands each success's records to the listeners (`TaskEndEvent.records`)
    /// and keeps none, so `JobResult.partitions[i].records` is empty. For callers that keep their
    /// own compact form of the records: at 10^6 partitions the JSON is gigabytes.
    public var retainsRecords = true
    /// How many partitions one successful task may hand back (`TaskContext.addPartitions`); more
    /// fail that attempt. 0, the default: a job takes none, so no executor can grow a job that
    /// did not ask for it.
    public var maxAddedPartitionsPerTask = 0

    public init(failFast: Bool? = nil, outputCheck: OutputCheck? = nil, listener: (any JobListener)? = nil,
                preferredLocations: (@Sendable (Int) -> [String])? = nil) {
        self.failFast = failFast
        self.outputCheck = outputCheck
        self.listener = listener
        self.preferredLocations = preferredLocations
    }
}

/// The caller's view of where outputs live: the scheduler's lineage. When every partition has
/// finished, the scheduler checks each succeeded partition's output and recomputes those that
/// are gone (up to `sextant.task.maxFailures` times a partition), and only then ends the job.
///
/// `isCommitted` runs on the scheduler's queue, so keep it quick (a stat or a HEAD). For many
/// partitions give `listing` too: the end-of-job check then calls it once, off the queue (one
/// listing of the output, not N HEADs), and asks the predicate it returns, on the queue.
public struct OutputCheck: Sendable {
    /// True when partition `i`'s output is committed and intact.
    public var isCommitted: @Sendable (Int) -> Bool
    /// One pass over the outputs (say a listing), returning what is committed as of that pass.
    /// Called off the scheduler's queue; the predicate it returns is called on it. A throw fails the job.
    public var listing: (@Sendable () throws -> @Sendable (Int) -> Bool)?
    /// Resume: partitions already committed when the job starts are skipped, not rerun.
    public var skipCommitted: Bool
    /// Outputs live on the executor that wrote them, so losing the executor loses them:
    /// check its partitions again when it is lost.
    public var outputsAreExecutorLocal: Bool

    public init(skipCommitted: Bool = true, outputsAreExecutorLocal: Bool = false,
                isCommitted: @escaping @Sendable (Int) -> Bool) {
        self.isCommitted = isCommitted
        self.skipCommitted = skipCommitted
        self.outputsAreExecutorLocal = outputsAreExecutorLocal
    }

    /// A check by listing: `listing` for the end-of-job pass (and resume), a fresh listing's
    /// answer for a single partition (an executor lost with executor-local outputs).
    public init(skipCommitted: Bool = true, outputsAreExecutorLocal: Bool = false,
                listing: @escaping @Sendable () throws -> @Sendable (Int) -> Bool) {
        self.init(skipCommitted: skipCommitted, outputsAreExecutorLocal: outputsAreExecutorLocal) { partition in
            (try? listing()(partition)) ?? false
        }
        self.listing = listing
    }
}

public enum PartitionStatus: String, Codable, Sendable {
    case succeeded
    /// Exhausted its attempts; `failureReasons` says why.
    case failed
    /// Already committed when the job started (resume).
    case skipped
    /// The job was cancelled or failed fast before this partition finished.
    case cancelled
}

public struct PartitionResult: Codable, Sendable {
    public var partition: Int
    public var status: PartitionStatus
    /// Attempts launched, speculative copies and reruns included.
    public var attempts: Int
    /// One line per failed attempt: attempt id, executor, message.
    public var failureReasons: [String]
    /// Attempts lost with their executor (not counted as failures, as in Spark).
    public var lostAttempts: Int
    /// Times a committed output was found missing and recomputed.
    public var recomputations: Int
    /// The executor whose attempt succeeded.
    public var executor: ExecutorID?
    /// The last step's records, JSON-encoded.
    public var records: [Data]
    /// For a partition a task handed back (`TaskContext.addPartitions`): the job's own partition it
    /// descends from. Nil for the job's own partitions (`0..<partitionCount`).
    public var origin: Int?
}

/// Where a job is, or how it ended: the one status the scheduler, the master's job records,
/// clients and the monitor share.
public enum JobStatus: String, Codable, Sendable {
    /// Waiting for the master to start it.
    case queued
    case running
    /// Every partition succeeded or was skipped as already committed.
    case succeeded
    /// The job ran to the end, but some partitions failed (see `failedPartitions`).
    case completedWithFailures
    /// Stopped at a partition that exhausted its attempts (fail-fast), or could not run.
    case failed
    case cancelled
    /// The master stopped or crashed while the job was queued or running. A master that
    /// kept the job's submission re-queues it on restart (resumed); otherwise resubmit it.
    case interrupted

    public var isFinished: Bool { self != .queued && self != .running }
}

public struct JobResult: Codable, Sendable {
    public var jobID: String
    public var status: JobStatus
    /// Why the job failed, when `status` is `.failed`.
    public var failureReason: String?
    public var partitions: [PartitionResult]
    /// Wall-clock seconds from submission to the end.
    public var duration: Double
    /// For a job with shuffles: every stage attempt the DAG scheduler ran, in order (nil otherwise).
    public var stages: [StageReport]? = nil

    public var failedPartitions: [PartitionResult] { partitions.filter { $0.status == .failed } }

    /// All records of succeeded partitions, in partition order, decoded as `T`.
    public func records<T: Decodable>(as type: T.Type) throws -> [T] {
        let decoder = JSONDecoder()
        return try partitions.flatMap { partition in
            try partition.records.map { try decoder.decode(T.self, from: $0) }
        }
    }
}

/// Why a job action did not give its records.
public struct JobError: Error, CustomStringConvertible {
    public var result: JobResult

    public var description: String {
        switch result.status {
        case .succeeded:
            return "job \(result.jobID) succeeded"
        case .cancelled:
            return "job \(result.jobID) was cancelled"
        case .failed:
            return "job \(result.jobID) failed: \(result.failureReason ?? "?")"
        case .queued, .running, .interrupted:
            return "job \(result.jobID) is \(result.status.rawValue)"
        case .completedWithFailures:
            let failed = result.failedPartitions
            let first = failed.first.map { "partition \($0.partition): \($0.failureReasons.last ?? "?")" } ?? ""
            return "job \(result.jobID): \(failed.count) of \(result.partitions.count) partitions failed (first: \(first))"
        }
    }
}

/// A submitted job: wait for it, or cancel it.
/// @unchecked: the condition `lock` guards `finalResult` and `completions`.
public final class JobHandle: @unchecked Sendable {
    public let jobID: String
    private let lock = NSCondition()
    private var finalResult: JobResult?
    private var completions: [@Sendable (JobResult) -> Void] = []
    private let cancelAction: @Sendable () -> Void

    init(jobID: String, cancel: @escaping @Sendable () -> Void) {
        self.jobID = jobID
        self.cancelAction = cancel
    }

    /// Stops the job: running attempts are cancelled, nothing more is launched, and the
    /// result's status is `.cancelled`. Does nothing once the job has ended.
    public func cancel() {
        cancelAction()
    }

    /// Blocks until the job ends. Never call it on the scheduler's queue (from a listener).
    public func wait() -> JobResult {
        lock.lock()
        defer { lock.unlock() }
        while finalResult == nil { lock.wait() }
        return finalResult!
    }

    /// The result, once the job has ended.
    public var result: JobResult? {
        lock.lock(); defer { lock.unlock() }
        return finalResult
    }

    /// Calls `body` with the result when the job ends (at once if it has).
    public func onCompletion(_ body: @escaping @Sendable (JobResult) -> Void) {
        lock.lock()
        if let finalResult {
            lock.unlock()
            body(finalResult)
            return
        }
        completions.append(body)
        lock.unlock()
    }

    func complete(_ result: JobResult) {
        lock.lock()
        guard finalResult == nil else { lock.unlock(); return }
        finalResult = result
        let waiting = completions
        completions = []
        lock.broadcast()
        lock.unlock()
        waiting.forEach { $0(result) }
    }
}
