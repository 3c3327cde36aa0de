import Engine
import Foundation
import XCTest
@testable import Cluster

/// Runs tasks whose input is "block" until they are cancelled; others return at once.
final class BlockingTaskHandler: TaskHandler, @unchecked Sendable {
    private let condition = NSCondition()
    private(set) var started: [TaskAttemptID] = []
    private(set) var cancelled: [TaskAttemptID] = []

    func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult {
        condition.lock()
        started.append(spec.id)
        condition.broadcast()
        while spec.inputs == ["block"] && !cancelled.contains(spec.id) { condition.wait() }
        condition.unlock()
        let outcome: TaskOutcome = spec.inputs == ["block"] ? .failure(message: "stopped") : .success(records: [])
        return TaskResult(id: spec.id, executor: executor, outcome: outcome, duration: 0)
    }

    func cancel(_ id: TaskAttemptID) {
        condition.lock()
        cancelled.append(id)
        condition.broadcast()
        condition.unlock()
    }

    func snapshot<T>(_ body: (BlockingTaskHandler) -> T) -> T {
        condition.lock(); defer { condition.unlock() }
        return body(self)
    }
}

/// Records what a backend reports.
final class EventLog: BackendEvents, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [TaskResult] = []
    var added: [ExecutorInfo] = []

    func executorAdded(_ info: ExecutorInfo) { lock.lock(); added.append(info); lock.unlock() }
    func executorLost(_ id: ExecutorID, reason: String) {}
    func taskFinished(_ result: TaskResult) { lock.lock(); stored.append(result); lock.unlock() }

    var results: [TaskResult] {
        lock.lock(); defer { lock.unlock() }
        return stored
    }
}

final class CancellationTests: XCTestCase {
    private func task(_ partition: Int, _ input: String, job: String = "j") -> TaskSpec {
        TaskSpec(id: TaskAttemptID(jobID: job, partition: partition, attempt: partition), inputs: [input], steps: [])
    }

    func testCancelDropsQueuedTasksAndStopsRunningOnes() throws {
        let fixture = ClusterFixture()
        defer { fixture.tearDown() }
        try fixture.startMaster()
        let handler = BlockingTaskHandler()
        let executor = fixture.startExecutor(cores: 1, handler: handler)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let id = try XCTUnwrap(executor.executorID)
        let events = EventLog()
        let backend = fixture.master.makeBackend()
        backend.start(events: events)

        let running = task(0, "block"), queued = task(1, "quick")
        backend.launch(running, on: id)
        XCTAssertTrue(eventually { handler.snapshot { $0.started == [running.id] } })
        backend.launch(queued, on: id)  // beyond the executor's one core: it waits there
        backend.cancel(queued.id, on: id)
        XCTAssertTrue(eventually { events.results.count == 1 })
        XCTAssertEqual(events.results.first?.id, queued.id)
        guard case .failure(let message)? = events.results.first?.outcome else { return XCTFail("\(events.results)") }
        XCTAssertEqual(message, "cancelled before it started")

        backend.cancel(running.id, on: id)
        XCTAssertTrue(eventually { events.results.count == 2 })
        XCTAssertEqual(events.results.last?.id, running.id)
        XCTAssertEqual(handler.snapshot { $0.cancelled }, [running.id])
        XCTAssertEqual(handler.snapshot { $0.started }, [running.id], "the cancelled task never ran")

        // A straggler of this job is still running when the next job's backend takes over...
        let leftover = task(2, "block")
        backend.launch(leftover, on: id)
        XCTAssertTrue(eventually { handler.snapshot { $0.started.contains(leftover.id) } })
        let next = EventLog()
        let nextBackend = fixture.master.makeBackend()
        nextBackend.start(events: next)
        // ...stopping the old backend cancels it, and its result reaches no one.
        backend.stop()
        XCTAssertTrue(eventually { handler.snapshot { $0.cancelled.contains(leftover.id) } })
        nextBackend.launch(task(0, "quick", job: "k"), on: id)
        XCTAssertTrue(eventually { next.results.count == 1 })
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(next.results.map(\.id.jobID), ["k"])
        XCTAssertTrue(fixture.logs.contains("dropped result of j/p2/a2: not launched by this job"))
        XCTAssertEqual(next.added.map(\.id), [id])
        nextBackend.stop()
    }
}
