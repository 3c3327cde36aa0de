import Foundation

/// What an operator may know about the attempt it runs in.
public struct TaskContext: Sendable {
    public var attemptID: TaskAttemptID
    public var executor: ExecutorID
    /// The job's settings (output location, store endpoint, ...), as given to the job.
    public var settings: [String: String]
    /// True when this attempt should stop: its twin won, or the job was cancelled.
    public var isCancelled: Bool { cancellationCheck() }
    /// True for a speculative copy of a still-running attempt.
    public var isSpeculative: Bool
    /// How many partitions this task may hand back (`addPartitions`): 0 unless its job takes them.
    public var maxAddedPartitions = 0

    private let cancellationCheck: @Sendable () -> Bool
    private let additions: PartitionAdditions

    public init(attemptID: TaskAttemptID, executor: ExecutorID, settings: [String: String] = [:],
                isSpeculative: Bool = false, isCancelled: @escaping @Sendable () -> Bool = { false },
                additions: PartitionAdditions = PartitionAdditions()) {
        self.attemptID = attemptID
        self.executor = executor
        self.settings = settings
        self.isSpeculative = isSpeculative
        self.cancellationCheck = isCancelled
        self.additions = additions
    }

    /// Hands work back to the scheduler: each element becomes a new partition of this job with
    /// those source records, run by the same steps, retried and recomputed like any other. Taken
    /// only when this attempt succeeds, and only from the first success of a partition.
    public func addPartitions(_ inputs: [[String]]) {
        additions.append(inputs)
    }

    /// Throws `TaskCancelled` when the attempt should stop; call it between units of work.
    public func checkCancellation() throws {
        if isCancelled { throw TaskCancelled(attemptID: attemptID) }
    }
}

/// Thrown by `TaskContext.checkCancellation()`; the task ends as a failure that the
/// scheduler does not count, since it asked for it.
public struct TaskCancelled: Error, CustomStringConvertible {
    public var attemptID: TaskAttemptID
    public var description: String { "attempt \(attemptID) was cancelled" }
}

/// The partitions one attempt hands back (`TaskContext.addPartitions`), collected for its result.
/// @unchecked: `lock` guards `inputs`.
public final class PartitionAdditions: @unchecked Sendable {
    private var inputs: [[String]] = []
    private let lock = NSLock()

    public init() {}

    func append(_ more: [[String]]) { lock.withLock { inputs += more } }

    /// What was handed back so far; nil when nothing was.
    public var added: [[String]]? { lock.withLock { inputs.isEmpty ? nil : inputs } }
}
