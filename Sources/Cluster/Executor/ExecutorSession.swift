import Engine
import Foundation

/// One registration with the master: the connection and the id the master gave us on it.
/// Results of tasks from a session that has ended are dropped: the master already rescheduled them.
final class ExecutorSession: @unchecked Sendable {
    let executorID: ExecutorID
    let connection: PeerConnection
    /// Seconds between heartbeats on this session.
    var heartbeatInterval: TimeInterval = 3
    private let lock = NSLock()
    private var ended = false

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
        connection.send(.taskResult(result)).whenFailure { error in
            // A result too large for one frame becomes a failure the scheduler can report.
            guard case WireError.frameTooLarge(let size, let limit) = error else { return }
            let failure = TaskResult(id: result.id, executor: result.executor, outcome: .failure(
                message: "the task's result (\(size) bytes) exceeds sextant.network.maxFrameBytes (\(limit))"),
                duration: result.duration)
            connection.send(.taskResult(failure))
        }
    }

    func end() {
        lock.lock()
        ended = true
        lock.unlock()
        connection.close()
    }
}
