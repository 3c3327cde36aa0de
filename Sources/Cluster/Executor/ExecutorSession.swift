import Engine
import Foundation
import NIOCore

/// One registration with the master: the connection and the id the master gave us on it.
/// Results of tasks from a session that has ended are dropped: the master already rescheduled them.
/// @unchecked: `lock` guards `ended` and `lastWrite`; `heartbeatInterval` is set before the
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

    init(executorID: ExecutorID, connection: PeerConnection) {
        self.executorID = executorID
        self.connection = connection
    }

    func send(_ result: TaskResult) {
        lock.lock()
        let live = !ended
        lock.unlock()
        guard live else { return }
        let result = { var stamped = result; stamped.executor = executorID; return stamped }()
        let connection = self.connection
        let write = connection.send(.taskResult(result))
        lock.lock(); lastWrite = write; lock.unlock()
        write.whenFailure { error in
            // A result too large for one frame becomes a failure the scheduler can report.
            guard case WireError.frameTooLarge(let size, let limit) = error else { return }
            let failure = TaskResult(id: result.id, executor: result.executor, outcome: .failure(
                message: "the task's result (\(size) bytes) exceeds sextant.network.maxFrameBytes (\(limit))"),
                duration: result.duration)
            connection.send(.taskResult(failure))
        }
    }

    /// Tells the master this executor is leaving.
    func sendDraining() {
        connection.send(.draining)
    }

    /// Waits (at most until `deadline`) for the latest result to be written.
    func waitForWrites(until deadline: Date) {
        lock.lock()
        let write = lastWrite
        lock.unlock()
        guard let write else { return }
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
