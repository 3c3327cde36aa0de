import Foundation

/// Progress, UI and manifest hooks. Called on the scheduler's queue, in order; keep
/// handlers short and never block on a job from them.
public protocol JobListener: AnyObject, Sendable {
    func jobStarted(_ event: JobStartEvent)
    func taskStarted(_ event: TaskStartEvent)
    func taskEnded(_ event: TaskEndEvent)
    func executorAdded(_ info: ExecutorInfo)
    func executorLost(_ id: ExecutorID, reason: String)
    func executorExcluded(_ id: ExecutorID, until: Date, reason: String)
    func jobEnded(_ result: JobResult)
}

extension JobListener {
    public func jobStarted(_ event: JobStartEvent) {}
    public func taskStarted(_ event: TaskStartEvent) {}
    public func taskEnded(_ event: TaskEndEvent) {}
    public func executorAdded(_ info: ExecutorInfo) {}
    public func executorLost(_ id: ExecutorID, reason: String) {}
    public func executorExcluded(_ id: ExecutorID, until: Date, reason: String) {}
    public func jobEnded(_ result: JobResult) {}
}

public struct JobStartEvent: Sendable {
    public var jobID: String
    public var partitions: Int
    /// Partitions skipped because their outputs were already committed.
    public var skipped: Int
}

public struct TaskStartEvent: Sendable {
    public var attempt: TaskAttemptID
    public var executor: ExecutorID
    public var speculative: Bool
}

public struct TaskEndEvent: Sendable {
    public enum Outcome: Equatable, Sendable {
        case succeeded(records: Int)
        /// Counted against maxFailures.
        case failed(message: String)
        /// The scheduler stopped it (twin won, job cancelled or failed); not counted.
        case cancelled
        /// Its executor was lost; rescheduled, not counted.
        case lost(reason: String)
        /// A result nobody waits for any more (stale attempt, twin already won).
        case discarded(reason: String)
    }

    public var attempt: TaskAttemptID
    public var executor: ExecutorID
    public var speculative: Bool
    /// Seconds since the scheduler launched the attempt.
    public var duration: Double
    public var outcome: Outcome
    /// The attempt's output records when it succeeded (JSON, as in `TaskOutcome.success`),
    /// so listeners can show per-record progress before the job ends.
    public var records: [Data] = []
    /// The partitions this success handed back (`TaskContext.addPartitions`), in the order it gave them.
    public var addedPartitions: Range<Int>?
    /// The job's own partition this one descends from (itself, for the job's own).
    public var origin: Int?
}
