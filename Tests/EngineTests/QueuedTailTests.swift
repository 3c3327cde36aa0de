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

        // e2 runs both of its tasks while e1's first is still running: e1's second waits behind it.
        backend.succeed(onE2[0].spec, on: "e2", records: ["a"])
        backend.succeed(onE2[1].spec, on: "e2", records: ["b"])
        backend.waitForCancel(onE1[1].spec.id)
        let moved = try XCTUnwrap(backend.waitForLaunches(5).last)
        XCTAssertEqual(moved.executor, "e2")
        XCTAssertEqual(moved.spec.id.partition, onE1[1].spec.id.partition)
        XCTAssertFalse(backend.cancels.contains(onE1[0].spec.id), "the running task stays where it is")
        XCTAssertEqual(backend.launches.count, 5, "one move, no more")

        // The waiting attempt answers its cancel at once; that is not a failure.
        backend.fail(onE1[1].spec, on: "e1", message: "cancelled before it started")
        backend.succeed(moved.spec, on: "e2", records: ["c"])
        backend.succeed(onE1[0].spec, on: "e1", records: ["d"])
        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded)
        let partition = result.partitions[moved.spec.id.partition]
        XCTAssertEqual(decodeStrings(partition.records), ["c"])
        XCTAssertTrue(partition.failureReasons.isEmpty, "\(partition.failureReasons)")
        XCTAssertTrue(listener.ended.value.contains { $0.attempt == onE1[1].spec.id && $0.outcome == .cancelled })
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
        XCTAssertTrue(backend.cancels.isEmpty, "fresh partitions go to the idle core first")
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
        XCTAssertTrue(backend.cancels.isEmpty)
        XCTAssertEqual(backend.launches.count, 4)
        scheduler.stop()
    }

    /// A crash of the running task takes the queued one with it: only the one that ran is counted lost.
    func testAnAttemptLostWhileItWaitedInAQueueIsNotCountedLost() {
        let backend = ManualBackend(executors: [ExecutorInfo(id: "e1", host: "h1", cores: 1, queuedTasks: 1)])
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
