import Engine
import Foundation

/// `cores` threads running tasks through the handler. Each task remembers the session
/// (connection) it came on: its result goes back on that session only if it is still open.
/// @unchecked: `condition` guards `pending`, `running` and `stopped`.
final class WorkerPool: @unchecked Sendable {
    struct Job {
        let spec: TaskSpec
        let session: ExecutorSession
    }

    private let handler: TaskHandler
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var running: [TaskAttemptID: ExecutorSession] = [:]
    private var stopped = false

    init(cores: Int, handler: TaskHandler) {
        self.handler = handler
        for index in 0..<cores {
            let thread = Thread { [self] in work() }
            thread.name = "sextant-executor-worker-\(index)"
            thread.start()
        }
    }

    func submit(_ specs: [TaskSpec], session: ExecutorSession) {
        condition.lock()
        pending.append(contentsOf: specs.map { Job(spec: $0, session: session) })
        condition.broadcast()  // a worker, and a drain watching for late launches
        condition.unlock()
    }

    /// A task not yet started is answered at once as failed (so its slot frees);
    /// a running one is passed to the handler's cancel.
    func cancel(_ id: TaskAttemptID, session: ExecutorSession) {
        condition.lock()
        if let index = pending.firstIndex(where: { $0.spec.id == id }) {
            pending.remove(at: index)
            condition.unlock()
            session.send(TaskResult(id: id, executor: session.executorID,
                                    outcome: .failure(message: "cancelled before it started"), duration: 0))
            return
        }
        let isRunning = running[id] != nil
        condition.unlock()
        if isRunning { handler.cancel(id) }
    }

    /// The session's connection died: drop its queued tasks and ask its running ones to stop.
    /// The master has declared them lost and will run them elsewhere.
    func abandon(_ session: ExecutorSession) {
        condition.lock()
        pending.removeAll { $0.session === session }
        let orphans = running.filter { $0.value === session }.map(\.key)
        condition.unlock()
        orphans.forEach(handler.cancel)
    }

    /// Waits until no task has been queued or running for `quiet` seconds (a launch the master
    /// sent before it heard of a drain may still be on the wire), or `deadline` passes; true when idle.
    func waitUntilIdle(deadline: Date, quiet: TimeInterval) -> Bool {
        condition.lock(); defer { condition.unlock() }
        while true {
            while !(pending.isEmpty && running.isEmpty) {
                guard condition.wait(until: deadline) else { return pending.isEmpty && running.isEmpty }
            }
            let calm = min(deadline, Date(timeIntervalSinceNow: quiet))
            while pending.isEmpty && running.isEmpty && condition.wait(until: calm) {}
            if pending.isEmpty && running.isEmpty { return true }
            if Date() >= deadline { return false }
        }
    }

    func stop() {
        condition.lock()
        stopped = true
        pending = []
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while let job = next() {
            let result = handler.run(job.spec, executor: job.session.executorID)
            job.session.send(result)
            condition.lock()
            running[job.spec.id] = nil
            condition.broadcast()  // a drain may be waiting for the last one
            condition.unlock()
        }
    }

    private func next() -> Job? {
        condition.lock(); defer { condition.unlock() }
        while pending.isEmpty && !stopped { condition.wait() }
        guard !stopped else { return nil }
        let job = pending.removeFirst()
        running[job.spec.id] = job.session
        return job
    }
}
