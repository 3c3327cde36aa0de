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
    /// How long the first result in the outbox waits for others (`sextant.executor.resultWindow`).
    private let resultWindow: TimeAmount
    /// As many results as the executor can hold tasks: no more can join, so they go at once.
    private let fullFrame: Int

    init(executorID: ExecutorID, connection: PeerConnection, resultWindow: TimeInterval = 0, fullFrame: Int = 1) {
        self.executorID = executorID
        self.connection = connection
        self.resultWindow = .interval(resultWindow)
        self.fullFrame = max(1, fullFrame)
    }

    /// Queues a result for the master. Results that finish within `resultWindow` of the first, or
    /// while its write is on its way to the event loop, go together in one frame: each frame costs
    /// the master a wakeup, a MAC and a scheduling pass, whatever it carries.
    func send(_ result: TaskResult) {
        var stamped = result
        stamped.executor = executorID
        lock.lock()
        guard !ended else { return lock.unlock() }
        outbox.append(stamped)
        let first = outbox.count == 1
        let full = outbox.count == fullFrame
        lock.unlock()
        let loop = connection.eventLoop
        if full {
            loop.execute { [self] in flush() }
        } else if first {
            if resultWindow.nanoseconds > 0 {
                loop.scheduleTask(in: resultWindow) { [self] in flush() }
            } else {
                loop.execute { [self] in flush() }
            }
        }
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
        // Flushes on the loop what the outbox holds (a flush may be waiting out the result window),
        // so the results queued so far are written.
        let loop = connection.eventLoop
        let write = loop.flatSubmit { [self] in
            flush()
            return lock.withLock { lastWrite } ?? loop.makeSucceededVoidFuture()
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
