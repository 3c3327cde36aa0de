import Engine
import Foundation
import NIOCore

/// One registration with the master: the connection and the id the master gave us on it.
/// Results of tasks from a session that has ended are dropped: the master already rescheduled them.
/// @unchecked: `lock` guards `ended`, `outbox` and `lastWrite`; `heartbeatInterval` is set before the
/// session is shared (ExecutorDaemon.register).
final class ExecutorSession: @unchecked Sendable {
    let executorID: ExecutorID
    let connection: PeerConnection
    /// Seconds between heartbeats on this session.
    var heartbeatInterval: TimeInterval = 3
    private let lock = NSLock()
    private var ended = false
    /// The latest result written, so a draining executor leaves only once it is out.
    private var lastWrite: EventLoopFuture<Void>?
    /// Results waiting for the write the first of them scheduled.
    private var outbox: [TaskResult] = []

    init(executorID: ExecutorID, connection: PeerConnection) {
        self.executorID = executorID
        self.connection = connection
    }

    /// Queues a result for the master. Results that finish while a write is on its way to the
    /// event loop go together, in one frame (the first schedules the write, the rest join it).
    func send(_ result: TaskResult) {
        var stamped = result
        stamped.executor = executorID
        lock.lock()
        guard !ended else { return lock.unlock() }
        outbox.append(stamped)
        let schedule = outbox.count == 1
        lock.unlock()
        if schedule { connection.eventLoop.execute { [self] in flush() } }
    }

    /// On the event loop: writes what the outbox holds.
    private func flush() {
        lock.lock()
        let results = outbox
        outbox = []
        let live = !ended
        lock.unlock()
        guard live, !results.isEmpty else { return }
        let write = write(results)
        lock.lock(); lastWrite = write; lock.unlock()
    }

    private func write(_ results: [TaskResult]) -> EventLoopFuture<Void> {
        let connection = self.connection
        // Even one result goes as a batch: its binary body is cheaper than taskResult's JSON.
        let write = connection.send(.taskResults(results))
        write.whenFailure { [self] error in
            guard case WireError.frameTooLarge(let size, let limit) = error else { return }
            // Too large together: one frame each. Too large alone: a failure the scheduler can report.
            guard results.count == 1 else {
                for result in results { _ = self.write([result]) }
                return
            }
            let result = results[0]
            let failure = TaskResult(id: result.id, executor: result.executor, outcome: .failure(
                message: "the task's result (\(size) bytes) exceeds sextant.network.maxFrameBytes (\(limit))"),
                duration: result.duration)
            connection.send(.taskResults([failure]))
        }
        return write
    }

    /// Hands queued tasks that never started back to the master, to be run elsewhere.
    func handBack(_ ids: [TaskAttemptID]) {
        guard !ids.isEmpty, lock.withLock({ !ended }) else { return }
        let write = connection.send(.returnedTasks(ids))
        lock.withLock { if lastWrite == nil { lastWrite = write } }
    }

    /// Tells the master this executor is leaving.
    func sendDraining() {
        connection.send(.draining)
    }

    /// Waits (at most until `deadline`) for the latest result to be written.
    func waitForWrites(until deadline: Date) {
        // Behind any flush already scheduled on the loop, so the results queued so far are written.
        let loop = connection.eventLoop
        let write = loop.flatSubmit { [self] in
            lock.withLock { lastWrite } ?? loop.makeSucceededVoidFuture()
        }
        let done = DispatchSemaphore(value: 0)
        write.whenComplete { _ in done.signal() }
        _ = done.wait(timeout: .now() + max(0, deadline.timeIntervalSinceNow))
    }

    func end() {
        lock.lock()
        ended = true
        lock.unlock()
        connection.close()
    }
}
