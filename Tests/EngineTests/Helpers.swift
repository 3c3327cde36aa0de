import Foundation
import TestSupport
import XCTest
@testable import Engine

/// A backend the test drives by hand: it records launches and cancels; the test delivers
/// results, losses and new executors through `events`.
final class ManualBackend: ExecutorBackend, @unchecked Sendable {
    private let condition = NSCondition()
    private var _events: BackendEvents?
    private var _launches: [(spec: TaskSpec, executor: ExecutorID)] = []
    private var _cancels: [TaskAttemptID] = []
    private var _withdrawals: [(ids: [TaskAttemptID], executor: ExecutorID)] = []
    let initialExecutors: [ExecutorInfo]
    let rebalancesQueuedAttempts: Bool
    let observesQueuedStarts: Bool

    init(executors: [ExecutorInfo], rebalancesQueuedAttempts: Bool = false, observesQueuedStarts: Bool = false) {
        initialExecutors = executors
        self.rebalancesQueuedAttempts = rebalancesQueuedAttempts
        self.observesQueuedStarts = observesQueuedStarts
    }

    var events: BackendEvents { condition.lock(); defer { condition.unlock() }; return _events! }
    var launches: [(spec: TaskSpec, executor: ExecutorID)] { condition.lock(); defer { condition.unlock() }; return _launches }
    var cancels: [TaskAttemptID] { condition.lock(); defer { condition.unlock() }; return _cancels }
    var withdrawals: [(ids: [TaskAttemptID], executor: ExecutorID)] {
        condition.lock(); defer { condition.unlock() }; return _withdrawals
    }

    func start(events: BackendEvents) {
        condition.lock(); _events = events; condition.unlock()
        initialExecutors.forEach(events.executorAdded)
    }

    func launch(_ task: TaskSpec, on executor: ExecutorID) {
        condition.lock(); _launches.append((task, executor)); condition.broadcast(); condition.unlock()
    }

    func cancel(_ id: TaskAttemptID, on executor: ExecutorID) {
        condition.lock(); _cancels.append(id); condition.broadcast(); condition.unlock()
    }

    func withdraw(_ ids: [TaskAttemptID], on executor: ExecutorID) {
        condition.lock(); _withdrawals.append((ids, executor)); condition.broadcast(); condition.unlock()
    }

    func stop() {}

    /// Waits (up to a generous limit) until `count` withdrawal requests have come; returns them all.
    func waitForWithdrawals(_ count: Int, file: StaticString = #filePath, line: UInt = #line)
        -> [(ids: [TaskAttemptID], executor: ExecutorID)] {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: 30)
        while _withdrawals.count < count && condition.wait(until: deadline) {}
        XCTAssertGreaterThanOrEqual(_withdrawals.count, count, "withdrawals", file: file, line: line)
        return _withdrawals
    }

    /// Waits (up to a generous limit) until `count` launches have happened; returns them all.
    func waitForLaunches(_ count: Int, file: StaticString = #filePath, line: UInt = #line)
        -> [(spec: TaskSpec, executor: ExecutorID)] {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: 30)
        while _launches.count < count && condition.wait(until: deadline) {}
        XCTAssertGreaterThanOrEqual(_launches.count, count, "launches", file: file, line: line)
        return _launches
    }

    func waitForCancel(_ id: TaskAttemptID, file: StaticString = #filePath, line: UInt = #line) {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: 30)
        while !_cancels.contains(id) && condition.wait(until: deadline) {}
        XCTAssertTrue(_cancels.contains(id), "cancel of \(id)", file: file, line: line)
    }

    func succeed(_ spec: TaskSpec, on executor: ExecutorID, records: [String]) {
        let data = records.map { try! JSONEncoder().encode($0) }
        events.taskFinished(TaskResult(id: spec.id, executor: executor, outcome: .success(records: data), duration: 0))
    }

    func fail(_ spec: TaskSpec, on executor: ExecutorID, message: String) {
        events.taskFinished(TaskResult(id: spec.id, executor: executor, outcome: .failure(message: message), duration: 0))
    }
}

/// Executors in this process, each with its own per-task delay and slots, running real
/// TaskRunners: for balancing and exclusion tests.
final class SimulatedBackend: ExecutorBackend, @unchecked Sendable {
    struct Executor {
        var id: ExecutorID
        var cores = 1
        var delay: TimeInterval = 0
        var failsEveryTask = false
        var localPaths: [String] = []
    }

    private let executors: [ExecutorID: Executor]
    private let order: [ExecutorID]
    private let runner: TaskRunner
    private let workers = DispatchQueue(label: "test.simulated", attributes: .concurrent)
    private let events = Locked<BackendEvents?>(nil)

    init(registry: OperatorRegistry, executors: [Executor]) {
        self.executors = Dictionary(uniqueKeysWithValues: executors.map { ($0.id, $0) })
        self.order = executors.map(\.id)
        self.runner = TaskRunner(registry: registry)
    }

    func start(events: BackendEvents) {
        self.events.value = events
        for id in order {
            events.executorAdded(ExecutorInfo(id: id, host: "sim", cores: executors[id]!.cores,
                                              localPaths: executors[id]!.localPaths))
        }
    }

    func launch(_ task: TaskSpec, on executor: ExecutorID) {
        let config = executors[executor]!
        workers.async { [runner, events] in
            if config.delay > 0 { Thread.sleep(forTimeInterval: config.delay) }
            var result = runner.run(task, executor: executor)
            if config.failsEveryTask { result.outcome = .failure(message: "disk full on \(executor)") }
            events.value?.taskFinished(result)
        }
    }

    func cancel(_ id: TaskAttemptID, on executor: ExecutorID) { runner.cancel(id) }
    func stop() { events.value = nil }
}

/// Collects job events for assertions.
final class RecordingListener: JobListener, @unchecked Sendable {
    let started = Locked<[TaskStartEvent]>([])
    let ended = Locked<[TaskEndEvent]>([])
    let excluded = Locked<[ExecutorID]>([])
    let lost = Locked<[ExecutorID]>([])
    var onTaskEnded: ((TaskEndEvent) -> Void)?
    var onTaskStarted: ((TaskStartEvent) -> Void)?

    func taskStarted(_ event: TaskStartEvent) {
        started.mutate { $0.append(event) }
        onTaskStarted?(event)
    }

    func taskEnded(_ event: TaskEndEvent) {
        ended.mutate { $0.append(event) }
        onTaskEnded?(event)
    }

    func executorExcluded(_ id: ExecutorID, until: Date, reason: String) { excluded.mutate { $0.append(id) } }
    func executorLost(_ id: ExecutorID, reason: String) { lost.mutate { $0.append(id) } }
}

func settings(_ configure: (inout EngineSettings) -> Void) -> EngineSettings {
    var settings = EngineSettings()
    configure(&settings)
    return settings
}

func job(partitions: Int, steps: [OperatorStep] = [], options: JobOptions = JobOptions()) -> JobDescription {
    JobDescription(partitionCount: partitions, inputs: { ["in\($0)"] }, steps: steps, options: options)
}

/// Waits for the scheduler to handle everything queued so far.
func drain(_ scheduler: TaskScheduler) {
    _ = scheduler.executorSnapshot()
}

func decodeStrings(_ records: [Data]) -> [String] {
    records.map { try! JSONDecoder().decode(String.self, from: $0) }
}
