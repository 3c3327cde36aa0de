import Engine
import Foundation

/// Computes tasks on an executor. Engine's TaskRunner has exactly this shape and is one
/// (below), so an executor of any program on the Engine hands its TaskRunner to the daemon.
public protocol TaskHandler: AnyObject, Sendable {
    /// Runs `spec` to completion on the calling thread; failures are reported in the result.
    func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult
    /// Best effort: asks a running attempt to stop early.
    func cancel(_ id: TaskAttemptID)
    /// Starts `spec` without blocking and returns true when the handler can (its tasks run elsewhere:
    /// worker processes); `done` then gets the result later, on another thread. False, and nothing
    /// started: the caller runs it with `run`. Default: false.
    func start(_ spec: TaskSpec, executor: ExecutorID, done: @escaping @Sendable (TaskResult) -> Void) -> Bool
    /// Tasks `start` may take beyond the cores, to hold until a core frees (a worker process's next
    /// task, its input fetched meanwhile). Default: 0.
    var tasksAhead: Int { get }
    /// True when `start` never blocks and takes every task it has room for: the pool then starts tasks
    /// from the thread that received them, with no pool thread woken. Default: false.
    var startsWithoutBlocking: Bool { get }
    /// Takes back the tasks `start` holds unstarted; their `done` is never called. Default: none.
    func withdrawQueued(timeout: TimeInterval) -> [TaskAttemptID]
}

extension TaskHandler {
    public var tasksAhead: Int { 0 }

    public var startsWithoutBlocking: Bool { false }

    public func withdrawQueued(timeout: TimeInterval) -> [TaskAttemptID] { [] }

    public func start(_ spec: TaskSpec, executor: ExecutorID, done: @escaping @Sendable (TaskResult) -> Void) -> Bool {
        false
    }
}

/// A TaskHandler from a closure; cancellation is ignored (running tasks finish).
/// @unchecked: immutable; only its closure is not marked `@Sendable`.
public final class ClosureTaskHandler: TaskHandler, @unchecked Sendable {
    private let body: (TaskSpec, ExecutorID) -> TaskResult

    public init(_ body: @escaping (TaskSpec, ExecutorID) -> TaskResult) {
        self.body = body
    }

    public func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult { body(spec, executor) }
    public func cancel(_ id: TaskAttemptID) {}
}

extension TaskRunner: TaskHandler {}

/// So is WorkerProcessRunner, which runs each task in a worker process (`sextant.executor.isolation`).
extension WorkerProcessRunner: TaskHandler {
    public var startsWithoutBlocking: Bool { true }
}
