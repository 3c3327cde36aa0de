import TestSupport
import XCTest
@testable import Engine

/// Executors that hold tasks beyond their cores (`ExecutorInfo.queuedTasks`): the tail of a job
/// moves a waiting attempt to an idle core, and an attempt lost while it waited is not counted.
final class QueuedTailTests: XCTestCase {
    private let queuedExecutors = [ExecutorInfo(id: "e1", host: "h1", cores: 1, queuedTasks: 1),
                                   ExecutorInfo(id: "e2", host: "h2", cores: 1, queuedTasks: 1)]

    func testAnIdleCoreTakesTheTaskWaitingBehindAnotherExecutorsRunningOne() throws {
        let backend = ManualBackend(executors: queuedExecutors, rebalancesQueuedAttempts: true)
        let scheduler = TaskScheduler(backend: backend)
        let listener = RecordingListener()
        let handle = scheduler.submit(job(partitions: 4, options: JobOptions(listener: listener)))
        let first = backend.waitForLaunches(4)
        let onE1 = first.filter { $0.executor == "e1" }, onE2 = first.filter { $0.executor == "e2" }
        XCTAssertEqual(onE1.count, 2, "one running and one queued on each")
        XCTAssertEqual(onE2.count, 2)

        // e2 runs both of its tasks while e1's first is still running: e1's second waits behind it,
        // and the idle core asks it back.
        backend.succeed(onE2[0].spec, on: "e2", records: ["a"])
        backend.succeed(onE2[1].spec, on: "e2", records: ["b"])
        let asked = try XCTUnwrap(backend.waitForWithdrawals(1).first)
        XCTAssertEqual(asked.executor, "e1")
        XCTAssertEqual(asked.ids, [onE1[1].spec.id], "the waiting one, not the running one")
        XCTAssertEqual(backend.launches.count, 4, "nothing moves before e1 hands it back")

        // e1 hands it back unstarted: it runs on e2, counted neither lost nor failed nor as an attempt.
        backend.events.tasksReturned([onE1[1].spec.id], by: "e1")
        let moved = try XCTUnwrap(backend.waitForLaunches(5).last)
        XCTAssertEqual(moved.executor, "e2")
        XCTAssertEqual(moved.spec.id.partition, onE1[1].spec.id.partition)
        drain(scheduler)
        XCTAssertEqual(backend.launches.count, 5, "one move, no more")
        XCTAssertEqual(backend.withdrawals.count, 1)
        XCTAssertTrue(backend.cancels.isEmpty)
        backend.succeed(moved.spec, on: "e2", records: ["c"])
        backend.succeed(onE1[0].spec, on: "e1", records: ["d"])
        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded)
        let partition = result.partitions[moved.spec.id.partition]
        XCTAssertEqual(decodeStrings(partition.records), ["c"])
        XCTAssertTrue(partition.failureReasons.isEmpty, "\(partition.failureReasons)")
        XCTAssertEqual(partition.attempts, 1, "the one handed back never ran")
        XCTAssertTrue(listener.ended.value.contains { $0.attempt == onE1[1].spec.id && $0.outcome == .cancelled })
    }

    /// The scheduler only infers when a queued task starts: an executor that had already started
    /// the one asked back keeps it, and nothing runs twice (a crashing input is charged each death).
    func testAnAttemptItsExecutorHadStartedStaysWhereItIs() throws {
        let backend = ManualBackend(executors: queuedExecutors, rebalancesQueuedAttempts: true)
        let scheduler = TaskScheduler(backend: backend)
        let handle = scheduler.submit(job(partitions: 4))
        let first = backend.waitForLaunches(4)
        let onE1 = first.filter { $0.executor == "e1" }, onE2 = first.filter { $0.executor == "e2" }
        backend.succeed(onE2[0].spec, on: "e2", records: ["a"])
        backend.succeed(onE2[1].spec, on: "e2", records: ["b"])
        XCTAssertEqual(backend.waitForWithdrawals(1).first?.ids, [onE1[1].spec.id])
        backend.events.tasksReturned([], by: "e1")
        drain(scheduler)
        XCTAssertEqual(backend.launches.count, 4, "not launched again")
        XCTAssertEqual(backend.withdrawals.count, 1, "not asked again")
        backend.succeed(onE1[0].spec, on: "e1", records: ["c"])
        backend.succeed(onE1[1].spec, on: "e1", records: ["d"])
        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions[onE1[1].spec.id.partition].attempts, 1)
    }

    func testNothingMovesWhileTasksRemainToHandOut() {
        let backend = ManualBackend(executors: queuedExecutors, rebalancesQueuedAttempts: true)
        let scheduler = TaskScheduler(backend: backend)
        _ = scheduler.submit(job(partitions: 6))
        let first = backend.waitForLaunches(4)
        let onE2 = first.filter { $0.executor == "e2" }
        backend.succeed(onE2[0].spec, on: "e2", records: ["a"])
        backend.succeed(onE2[1].spec, on: "e2", records: ["b"])
        let next = backend.waitForLaunches(6)
        drain(scheduler)
        XCTAssertTrue(backend.withdrawals.isEmpty, "fresh partitions go to the idle core first")
        XCTAssertEqual(Set(next[4...].map(\.spec.id.partition)), [4, 5])
        scheduler.stop()
    }

    /// A master's executors are shared with other jobs' schedulers: there a queued attempt stays put.
    func testABackendThatSharesItsExecutorsKeepsQueuedAttemptsWhereTheyAre() {
        let backend = ManualBackend(executors: queuedExecutors)
        let scheduler = TaskScheduler(backend: backend)
        _ = scheduler.submit(job(partitions: 4))
        let onE2 = backend.waitForLaunches(4).filter { $0.executor == "e2" }
        backend.succeed(onE2[0].spec, on: "e2", records: ["a"])
        backend.succeed(onE2[1].spec, on: "e2", records: ["b"])
        drain(scheduler)
        XCTAssertTrue(backend.withdrawals.isEmpty)
        XCTAssertEqual(backend.launches.count, 4)
        scheduler.stop()
    }

    /// A crash of the running task takes the queued one with it: where the backend sees queued starts
    /// exactly (local mode's workers), only the one that ran is counted lost.
    func testAnAttemptLostWhileItWaitedInAQueueIsNotCountedLost() {
        let backend = ManualBackend(executors: [ExecutorInfo(id: "e1", host: "h1", cores: 1, queuedTasks: 1)],
                                    observesQueuedStarts: true)
        let scheduler = TaskScheduler(backend: backend, settings: settings { $0.maxFailures = 1 })
        let handle = scheduler.submit(job(partitions: 2))
        let first = backend.waitForLaunches(2)
        backend.events.executorLost("e1", reason: "worker process 42 killed by signal 11")
        backend.events.executorAdded(ExecutorInfo(id: "e2", host: "h1", cores: 1, queuedTasks: 1))
        let reruns = backend.waitForLaunches(4)[2...]
        for rerun in reruns { backend.succeed(rerun.spec, on: "e2", records: ["ok"]) }
        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions[first[0].spec.id.partition].lostAttempts, 1, "it ran when its worker died")
        XCTAssertEqual(result.partitions[first[1].spec.id.partition].lostAttempts, 0, "it only waited")
    }
}
