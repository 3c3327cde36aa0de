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
}

extension TaskHandler {
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
extension WorkerProcessRunner: TaskHandler {}
