import Engine
import Foundation

/// A minimal pull scheduler for tests: launches tasks as slots free, reschedules the attempts of
/// lost executors under new attempt numbers, and records every result it is handed.
final class TestDriver: BackendEvents, @unchecked Sendable {
    let backend: ExecutorBackend
    private let condition = NSCondition()
    private var pending: [TaskSpec]
    private var freeSlots: [ExecutorID: Int] = [:]
    private var running: [TaskAttemptID: ExecutorID] = [:]
    private var nextAttempt: Int
    private(set) var results: [TaskResult] = []
    private(set) var accepted: [Int: TaskResult] = [:]
    private(set) var added: [ExecutorInfo] = []
    private(set) var lost: [(ExecutorID, String)] = []
    /// How many results had arrived when each executor was reported lost.
    private(set) var resultsAtLoss: [ExecutorID: Int] = [:]
    /// When the last pending task was handed to the backend (the job then has nothing left to assign).
    private(set) var lastAssigned: Date?
    let total: Int

    init(backend: ExecutorBackend, tasks: [TaskSpec]) {
        self.backend = backend
        self.pending = tasks
        self.total = tasks.count
        self.nextAttempt = (tasks.map(\.id.attempt).max() ?? 0) + 1
    }

    func start() { backend.start(events: self) }

    func executorAdded(_ info: ExecutorInfo) {
        condition.lock(); defer { condition.unlock() }
        added.append(info)
        freeSlots[info.id] = info.cores + (info.queuedTasks ?? 0)  // as TaskScheduler: its queue too
        dispatch()
        condition.broadcast()
    }

    func executorLost(_ id: ExecutorID, reason: String) {
        condition.lock(); defer { condition.unlock() }
        lost.append((id, reason))
        resultsAtLoss[id] = results.count
        freeSlots[id] = nil
        for (attempt, executor) in running where executor == id {
            running[attempt] = nil
            pending.append(respec(attempt))
        }
        dispatch()
        condition.broadcast()
    }

    func taskFinished(_ result: TaskResult) {
        condition.lock(); defer { condition.unlock() }
        results.append(result)
        if running[result.id] == result.executor {
            running[result.id] = nil
            freeSlots[result.executor, default: 0] += 1
            accepted[result.id.partition] = result
        }
        dispatch()
        condition.broadcast()
    }

    /// True when every partition has an accepted result before `timeout`.
    func waitUntilDone(timeout: TimeInterval) -> Bool {
        wait(timeout: timeout) { $0.accepted.count == $0.total }
    }

    /// Waits (under the driver's lock) until `predicate` holds.
    func wait(timeout: TimeInterval, until predicate: (TestDriver) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock(); defer { condition.unlock() }
        while !predicate(self) {
            if !condition.wait(until: deadline) { return predicate(self) }
        }
        return true
    }

    func snapshot<T>(_ body: (TestDriver) -> T) -> T {
        condition.lock(); defer { condition.unlock() }
        return body(self)
    }

    private func dispatch() {
        for (executor, free) in freeSlots.sorted(by: { $0.key < $1.key }) where free > 0 {
            var free = free
            while free > 0, !pending.isEmpty {
                let task = pending.removeFirst()
                running[task.id] = executor
                free -= 1
                backend.launch(task, on: executor)
                if pending.isEmpty { lastAssigned = Date() }
            }
            freeSlots[executor] = free
        }
    }

    private func respec(_ old: TaskAttemptID) -> TaskSpec {
        defer { nextAttempt += 1 }
        return TaskSpec(id: TaskAttemptID(jobID: old.jobID, partition: old.partition, attempt: nextAttempt),
                        inputs: ["input-\(old.partition)"], steps: [])
    }

    static func tasks(_ count: Int, job: String = "job") -> [TaskSpec] {
        (0..<count).map {
            TaskSpec(id: TaskAttemptID(jobID: job, partition: $0, attempt: $0), inputs: ["input-\($0)"], steps: [])
        }
    }
}

/// The trivial executor work: upper-cases each input, optionally after a pause.
func upperCasing(delay: TimeInterval = 0) -> (TaskSpec, ExecutorID) -> TaskResult {
    { spec, executor in
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        let records = spec.inputs.map { Data("\"\($0.uppercased())\"".utf8) }
        return TaskResult(id: spec.id, executor: executor, outcome: .success(records: records), duration: delay)
    }
}
