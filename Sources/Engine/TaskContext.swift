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

    private let cancellationCheck: @Sendable () -> Bool

    public init(attemptID: TaskAttemptID, executor: ExecutorID, settings: [String: String] = [:],
                isSpeculative: Bool = false, isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.attemptID = attemptID
        self.executor = executor
        self.settings = settings
        self.isSpeculative = isSpeculative
        self.cancellationCheck = isCancelled
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
