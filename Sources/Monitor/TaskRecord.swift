import Foundation

/// One task attempt as the monitor saw it start and end.
public struct TaskRecord: Codable, Sendable, Equatable {
    public var partition: Int
    public var attempt: Int
    public var executor: String
    public var speculative: Bool
    public var started: Date
    /// Seconds from launch to end; nil while it runs.
    public var duration: Double?
    /// succeeded, failed, cancelled, lost or discarded; nil while it runs.
    public var outcome: String?
    public var message: String?
    /// The inputs it committed (known when it succeeded).
    public var inputs: [String]

    public var isRunning: Bool { outcome == nil }
}

/// One executor's share of a job.
public struct ExecutorFigures: Codable, Sendable, Equatable {
    public var executor: String
    public var tasksRunning = 0
    public var tasksSucceeded = 0
    public var tasksFailed = 0
    /// Summed over ended attempts.
    public var taskSeconds = 0.0
    public var inputs = 0
    public var sources = 0

    public init(executor: String) { self.executor = executor }
}
