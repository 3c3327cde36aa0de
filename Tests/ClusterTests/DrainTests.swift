import Engine
import Foundation
import TestSupport
import XCTest
@testable import Cluster

/// Runs one scheduler job of `tasks` partitions of `steps` (none: tasks that do nothing) over the
/// master's executors, recording where tasks ran.
final class SchedulingJobHandler: JobHandler, @unchecked Sendable {
    let tasks: Int
    let steps: [OperatorStep]
    private let lock = NSLock()
    private(set) var result: JobResult?
    let events = EventRecorder()

    /// `sextant.scheduler.queuedWork`: 0 fills executors' whole queues, whatever the tasks take.
    let queuedWork: TimeInterval

    init(tasks: Int, steps: [OperatorStep] = [], queuedWork: TimeInterval = EngineSettings().queuedWork) {
        self.tasks = tasks
        self.steps = steps
        self.queuedWork = queuedWork
    }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        var settings = EngineSettings()
        settings.maxFailures = 1
        settings.queuedWork = queuedWork
        let scheduler = TaskScheduler(backend: backend, settings: settings)
        scheduler.start()
        defer { scheduler.stop() }
        let result = scheduler.run(JobDescription(
            jobID: job.id, partitionCount: tasks, inputs: { ["input-\($0)"] }, steps: steps,
            options: JobOptions(listener: events)))
        lock.lock(); self.result = result; lock.unlock()
        return JobOutcome(status: result.status == .succeeded ? .succeeded : .failed)
    }
}

final class EventRecorder: JobListener, @unchecked Sendable {
    private let lock = NSLock()
    private var started: [(TaskAttemptID, ExecutorID, Date)] = []
    private var ended: [(TaskAttemptID, ExecutorID, TaskEndEvent.Outcome)] = []

    func taskStarted(_ event: TaskStartEvent) {
        lock.lock(); started.append((event.attempt, event.executor, Date())); lock.unlock()
    }

    func taskEnded(_ event: TaskEndEvent) {
        lock.lock(); ended.append((event.attempt, event.executor, event.outcome)); lock.unlock()
    }

    func starts(on executor: ExecutorID) -> [Date] {
        lock.lock(); defer { lock.unlock() }
        return started.filter { $0.1 == executor }.map(\.2)
    }

    func ends(on executor: ExecutorID) -> [TaskEndEvent.Outcome] {
        lock.lock(); defer { lock.unlock() }
        return ended.filter { $0.1 == executor }.map(\.2)
    }
}

final class DrainTests: XCTestCase {
    private var fixture: ClusterFixture?

    override func tearDown() {
        fixture?.tearDown()
    }

    /// A drained executor finishes what it holds, takes nothing new, and the job loses nothing.
    func testADrainingExecutorFinishesItsTasksAndTakesNoMore() throws {
        let handler = SchedulingJobHandler(tasks: 12)
        let fixture = ClusterFixture(jobHandler: handler)
        self.fixture = fixture
        try fixture.startMaster()
        let leaving = fixture.startExecutor(cores: 1, work: upperCasing(delay: 0.3))
        fixture.startExecutor(cores: 1, work: upperCasing(delay: 0.3))
        XCTAssertTrue(fixture.waitForExecutors(2))
        let leavingID = try XCTUnwrap(leaving.executorID)
        let client = try fixture.client()
        defer { client.close() }
        _ = try client.submit(Data("{}".utf8), jobID: "drain")
        XCTAssertTrue(eventually(timeout: 10) { !handler.events.starts(on: leavingID).isEmpty })

        let drainStarted = Date()
        XCTAssertTrue(leaving.drain(timeout: 10), "everything it held finished in time")
        XCTAssertLessThan(Date().timeIntervalSince(drainStarted), 2)
        let final = try client.wait(for: "drain", timeout: 30)
        XCTAssertEqual(final.status, .succeeded)
        let result = try XCTUnwrap(handler.result)
        XCTAssertEqual(result.partitions.filter { $0.status == .succeeded }.count, 12)
        XCTAssertEqual(result.partitions.map(\.lostAttempts).reduce(0, +), 0)
        XCTAssertEqual(result.partitions.flatMap(\.failureReasons), [])
        // What it started, it finished; at most the launch already on the wire started after the drain.
        let started = handler.events.starts(on: leavingID)
        XCTAssertEqual(handler.events.ends(on: leavingID).filter { $0 == .succeeded(records: 1) }.count, started.count, "\(handler.events.ends(on: leavingID))")
        XCTAssertLessThanOrEqual(started.filter { $0 > drainStarted }.count, 1)
        XCTAssertTrue(fixture.logs.contains("is draining"), fixture.logs.all.joined(separator: "\n"))
    }

    /// Past sextant.executor.drainTimeout it leaves with a task running: that task runs again
    /// elsewhere, and with maxFailures 1 the job still succeeds: the loss is not counted.
    func testATaskCutOffByTheDrainTimeoutIsRescheduledAndNotCounted() throws {
        let handler = SchedulingJobHandler(tasks: 3)
        let fixture = ClusterFixture(jobHandler: handler)
        self.fixture = fixture
        try fixture.startMaster()
        let running = DispatchSemaphore(value: 0)
        let slow = upperCasing(delay: 2)
        let leaving = fixture.startExecutor(cores: 1) { spec, id in running.signal(); return slow(spec, id) }
        XCTAssertTrue(fixture.waitForExecutors(1))
        // The master lists it before the executor has read its id from the master's answer.
        XCTAssertTrue(eventually { leaving.executorID != nil })
        let leavingID = try XCTUnwrap(leaving.executorID)
        let client = try fixture.client()
        defer { client.close() }
        _ = try client.submit(Data("{}".utf8), jobID: "cut")
        XCTAssertEqual(running.wait(timeout: .now() + 10), .success, "the executor is running its task")
        fixture.startExecutor(cores: 2, work: upperCasing(delay: 0.1))
        XCTAssertFalse(leaving.drain(timeout: 0.3), "its task was still running")
        XCTAssertEqual(try client.wait(for: "cut", timeout: 30).status, .succeeded)
        let result = try XCTUnwrap(handler.result)
        XCTAssertTrue(result.partitions.allSatisfy { $0.status == .succeeded })
        XCTAssertEqual(result.partitions.map(\.lostAttempts).reduce(0, +), 0, "a drained executor's losses are not counted")
        XCTAssertEqual(handler.events.starts(on: leavingID).count, 1, "nothing launched on it after the drain")
    }
}
