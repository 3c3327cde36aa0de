import Engine
import Foundation
import TestSupport
import XCTest
@testable import Cluster

/// Counts each input's runs and each executor's tasks running at once.
final class RunCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [String: Int] = [:]
    private var now: [ExecutorID: Int] = [:]
    private var peak: [ExecutorID: Int] = [:]

    /// A handler body that records the run, sleeps `delay`, and returns the input as its record.
    func work(delay: TimeInterval) -> (TaskSpec, ExecutorID) -> TaskResult {
        { [self] spec, executor in
            lock.withLock {
                runs[spec.inputs[0], default: 0] += 1
                now[executor, default: 0] += 1
                peak[executor] = max(peak[executor] ?? 0, now[executor]!)
            }
            Thread.sleep(forTimeInterval: delay)
            lock.withLock { now[executor]! -= 1 }
            return TaskResult(id: spec.id, executor: executor, outcome: .success(records: [Data(spec.inputs[0].utf8)]),
                              duration: delay)
        }
    }

    var runCounts: [String: Int] { lock.withLock { runs } }
    var peaks: [ExecutorID: Int] { lock.withLock { peak } }
}

/// `sextant.executor.queuedTasksPerSlot`: an executor holds tasks beyond its cores and starts them as cores free.
final class QueueTests: XCTestCase {
    private var fixture: ClusterFixture!

    override func tearDown() {
        fixture?.tearDown()
        fixture = nil
    }

    /// These tests are of the queue's mechanics, so it is filled whole (`sextant.scheduler.queuedWork` 0),
    /// however long the tasks take; the last ones test the depth sized by the tasks' durations.
    private func scheduler(maxFailures: Int = 4, queuedWork: TimeInterval = 0) -> TaskScheduler {
        var settings = EngineSettings()
        settings.maxFailures = maxFailures
        settings.queuedWork = queuedWork
        let scheduler = TaskScheduler(backend: fixture.master.makeBackend(), settings: settings)
        scheduler.start()
        return scheduler
    }

    private static func job(_ tasks: Int, id: String = "q", listener: (any JobListener)? = nil) -> JobDescription {
        JobDescription(jobID: id, partitionCount: tasks, inputs: { ["in-\($0)"] }, steps: [],
                       options: JobOptions(listener: listener))
    }

    /// Launch frames carry an executor's cores and its queue; it runs only `cores` at once, and every task runs once.
    func testLaunchFramesCarryMoreTasksThanSlotsAndEveryTaskRunsOnce() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let counter = RunCounter()
        for _ in 0..<2 { fixture.startExecutor(cores: 2, queuedPerSlot: 2, work: counter.work(delay: 0.002)) }
        XCTAssertTrue(fixture.waitForExecutors(2))
        XCTAssertEqual(fixture.master.executors.map(\.queuedTasks), [4, 4], "registered: 2 cores x 2 queued per slot")
        let scheduler = scheduler(maxFailures: 1)
        defer { scheduler.stop() }
        let tasks = 300
        let result = scheduler.run(Self.job(tasks))
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions[123].records, [Data("in-123".utf8)])
        XCTAssertEqual(counter.runCounts.count, tasks)
        XCTAssertEqual(Set(counter.runCounts.values), [1], "every task ran exactly once")
        XCTAssertEqual(counter.peaks.count, 2)
        XCTAssertTrue(counter.peaks.values.allSatisfy { $0 <= 2 }, "at most cores at once: \(counter.peaks)")
        let launches = fixture.master.launchCounts
        XCTAssertEqual(launches.tasks, tasks, "nothing sent twice")
        XCTAssertGreaterThan(launches.largestFrame, 2, "a frame held more tasks than the executor's slots")
        XCTAssertLessThanOrEqual(launches.largestFrame, 6)
        print("queue: \(launches.tasks) tasks in \(launches.frames) launch frames, largest \(launches.largestFrame)")
    }

    /// A queued task is not running: its start is reported when a core takes it, not when it was sent.
    func testAQueuedTaskStartsWhenACoreFrees() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let counter = RunCounter()
        let executor = fixture.startExecutor(cores: 1, queuedPerSlot: 3, work: counter.work(delay: 0.3))
        XCTAssertTrue(fixture.waitForExecutors(1))
        let id = try XCTUnwrap(executor.executorID)
        let events = EventRecorder()
        let scheduler = scheduler()
        defer { scheduler.stop() }
        XCTAssertEqual(scheduler.run(Self.job(4, listener: events)).status, .succeeded)
        XCTAssertEqual(fixture.master.launchCounts.largestFrame, 4, "all four were sent at once")
        let starts = events.starts(on: id).sorted()
        XCTAssertEqual(starts.count, 4)
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            XCTAssertGreaterThan(later.timeIntervalSince(earlier), 0.2, "one at a time, a task's time apart: \(starts)")
        }
    }

    /// 0 is the behaviour before the queue: never more tasks in a frame than the executor's free slots.
    func testQueueZeroSendsNoMoreThanTheSlots() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let counter = RunCounter()
        for _ in 0..<2 { fixture.startExecutor(cores: 2, queuedPerSlot: 0, work: counter.work(delay: 0.002)) }
        XCTAssertTrue(fixture.waitForExecutors(2))
        XCTAssertEqual(fixture.master.executors.map(\.queuedTasks), [0, 0])
        let scheduler = scheduler()
        defer { scheduler.stop() }
        XCTAssertEqual(scheduler.run(Self.job(100)).status, .succeeded)
        XCTAssertEqual(Set(counter.runCounts.values), [1])
        XCTAssertEqual(fixture.master.launchCounts.largestFrame, 2)
    }

    /// An executor that vanishes (its connection cut, as SIGKILL does) holding a running task and
    /// three queued ones: they all run elsewhere, and with maxFailures 1 nothing fails.
    func testALostExecutorsQueuedTasksRunElsewhereAndNothingFails() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let counter = RunCounter()
        let started = DispatchSemaphore(value: 0)
        let slow = counter.work(delay: 0.5)
        let doomed = fixture.startExecutor(cores: 1, queuedPerSlot: 3) { spec, id in started.signal(); return slow(spec, id) }
        XCTAssertTrue(fixture.waitForExecutors(1))
        let scheduler = scheduler(maxFailures: 1)
        defer { scheduler.stop() }
        let handle = scheduler.submit(Self.job(6))
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(eventually { self.fixture.master.launchCounts.tasks == 4 }, "1 running + 3 queued on the doomed executor")
        fixture.startExecutor(cores: 2, queuedPerSlot: 1, work: counter.work(delay: 0.01))
        XCTAssertTrue(fixture.waitForExecutors(2))
        doomed.stop()
        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions.filter { $0.status == .succeeded }.count, 6)
        XCTAssertEqual(result.partitions.flatMap(\.failureReasons), [], "losses are not failures")
        XCTAssertEqual(result.partitions.map { $0.records }, (0..<6).map { [Data("in-\($0)".utf8)] })
        // The three queued attempts never ran there, but the master cannot know it (a dying executor's
        // last results may never arrive, and a queued task starts unannounced): each counts as lost.
        XCTAssertEqual(result.partitions.map(\.lostAttempts).reduce(0, +), 4, "every attempt it held counts as lost")
    }

    /// Cancelling a job whose tasks wait in an executor's queue: the queued ones never run.
    func testCancellingAJobWithQueuedTasksRunsNoneOfThem() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let handler = BlockingTaskHandler()
        fixture.startExecutor(cores: 1, queuedPerSlot: 3, handler: handler)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let scheduler = scheduler()
        defer { scheduler.stop() }
        let handle = scheduler.submit(JobDescription(jobID: "c", partitionCount: 4, inputs: { _ in ["block"] }, steps: []))
        XCTAssertTrue(eventually { handler.snapshot { $0.started.count } == 1 && self.fixture.master.launchCounts.tasks == 4 })
        handle.cancel()
        XCTAssertEqual(handle.wait().status, .cancelled)
        XCTAssertTrue(eventually { handler.snapshot { $0.cancelled.count } == 1 }, "the running one is stopped")
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(handler.snapshot { $0.started.count }, 1, "the three queued never ran")
    }

    /// SIGTERM: a draining executor finishes what runs, hands its queue back at once (not failures), and leaves.
    func testADrainingExecutorHandsItsQueueBackAtOnce() throws {
        let handler = SchedulingJobHandler(tasks: 8, queuedWork: 0)
        fixture = ClusterFixture(jobHandler: handler)
        try fixture.startMaster()
        let counter = RunCounter()
        let started = DispatchSemaphore(value: 0)
        let slow = counter.work(delay: 0.5)
        let leaving = fixture.startExecutor(cores: 1, queuedPerSlot: 3) { spec, id in started.signal(); return slow(spec, id) }
        XCTAssertTrue(fixture.waitForExecutors(1))
        let leavingID = try XCTUnwrap(leaving.executorID)
        let client = try fixture.client()
        defer { client.close() }
        _ = try client.submit(Data("{}".utf8), jobID: "drain")
        XCTAssertEqual(started.wait(timeout: .now() + 10), .success)
        XCTAssertTrue(eventually { self.fixture.master.launchCounts.tasks == 4 })
        fixture.startExecutor(cores: 2, queuedPerSlot: 1, work: counter.work(delay: 0.01))
        XCTAssertTrue(fixture.waitForExecutors(2))

        let drainStarted = Date()
        XCTAssertTrue(leaving.drain(timeout: 10), "its one running task finished in time")
        XCTAssertLessThan(Date().timeIntervalSince(drainStarted), 2, "it did not run its queue first")
        XCTAssertEqual(try client.wait(for: "drain", timeout: 30).status, .succeeded)
        let result = try XCTUnwrap(handler.result)
        XCTAssertEqual(result.partitions.filter { $0.status == .succeeded }.count, 8)
        XCTAssertEqual(result.partitions.map(\.lostAttempts).reduce(0, +), 0)
        XCTAssertEqual(result.partitions.flatMap(\.failureReasons), [])
        XCTAssertEqual(Set(counter.runCounts.values), [1], "every task ran once: the handed-back ones elsewhere")
        let ends = handler.events.ends(on: leavingID)
        XCTAssertEqual(ends.filter { $0 == .succeeded(records: 1) }.count, 1, "it ran only the task it had started")
        XCTAssertEqual(ends.filter { if case .lost(let reason) = $0 { return reason.contains("handed back") }; return false }.count,
                       3, "\(ends)")
    }
}

extension QueueTests {
    /// `sextant.scheduler.queuedWork` (2 ms): an executor that may hold 8 tasks a core beyond those it
    /// runs is sent one a core for tasks of 10 ms (so a deep queue never lengthens a job's tail), and
    /// fuller frames once tasks prove to take microseconds.
    func testTheQueueIsFilledWithAboutTwoMillisecondsOfWorkPerCore() throws {
        for (delay, reported) in [(0.01, 0.01), (0.0, 0.00001)] {
            fixture?.tearDown()
            fixture = ClusterFixture()
            try fixture.startMaster()
            let counter = RunCounter()
            let work = counter.work(delay: delay)
            fixture.startExecutor(cores: 2, queuedPerSlot: 8) { spec, id in
                var result = work(spec, id)
                result.duration = reported
                return result
            }
            XCTAssertTrue(fixture.waitForExecutors(1))
            XCTAssertEqual(fixture.master.executors.map(\.queuedTasks), [16], "registered: 2 cores x 8 queued per slot")
            let scheduler = scheduler(queuedWork: EngineSettings().queuedWork)
            let tasks = 400
            let result = scheduler.run(Self.job(tasks))
            scheduler.stop()
            XCTAssertEqual(result.status, .succeeded)
            XCTAssertEqual(Set(counter.runCounts.values), [1], "every task ran exactly once")
            XCTAssertEqual(counter.runCounts.count, tasks)
            let launches = fixture.master.launchCounts
            print("queue depth, \(reported) s tasks: \(launches.tasks) tasks in \(launches.frames) frames, largest \(launches.largestFrame)")
            if delay > 0 {
                XCTAssertLessThanOrEqual(launches.largestFrame, 4, "10 ms tasks: 2 running + 1 queued a core at most")
            } else {
                XCTAssertGreaterThan(launches.largestFrame, 4, "10 us tasks: more than one queued a core")
                XCTAssertLessThanOrEqual(launches.largestFrame, 18, "never beyond the executor's cores and queue")
            }
        }
    }
}

/// A handler whose tasks run elsewhere, as worker processes do: `start` takes a free slot of its own
/// and answers later on another thread; with none free it declines and the pool falls back to `run`.
final class StartingHandler: TaskHandler, @unchecked Sendable {
    private let lock = NSLock()
    private let slots: Int
    private let elsewhere = DispatchQueue(label: "test.elsewhere", attributes: .concurrent)
    private var active = 0
    private(set) var peak = 0
    private(set) var started = 0
    private(set) var ranBlocking = 0
    private var runs: [String: Int] = [:]

    init(slots: Int) { self.slots = slots }

    var runCounts: [String: Int] { lock.withLock { runs } }

    private func result(_ spec: TaskSpec, _ executor: ExecutorID) -> TaskResult {
        TaskResult(id: spec.id, executor: executor, outcome: .success(records: [Data(spec.inputs[0].utf8)]), duration: 0)
    }

    func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult {
        lock.withLock {
            ranBlocking += 1
            runs[spec.inputs[0], default: 0] += 1
        }
        return result(spec, executor)
    }

    func start(_ spec: TaskSpec, executor: ExecutorID, done: @escaping @Sendable (TaskResult) -> Void) -> Bool {
        let free: Bool = lock.withLock {
            guard active < slots else { return false }
            active += 1
            peak = max(peak, active)
            started += 1
            runs[spec.inputs[0], default: 0] += 1
            return true
        }
        guard free else { return false }
        let answer = result(spec, executor)
        elsewhere.asyncAfter(deadline: .now() + .microseconds(300)) { [self] in
            lock.withLock { active -= 1 }  // free before the result, as a worker is idle before its reader reports
            done(answer)
        }
        return true
    }

    func cancel(_ id: TaskAttemptID) {}
}

extension QueueTests {
    /// Tasks a handler starts without blocking (worker processes) run each once, never more at once
    /// than the executor's cores, and the next queued one is started as each result comes back.
    func testAHandlerThatStartsTasksWithoutBlockingRunsEachOnceAndNoMoreThanItsCores() throws {
        let fixture = ClusterFixture()
        defer { fixture.tearDown() }
        try fixture.startMaster()
        let handler = StartingHandler(slots: 2)
        fixture.startExecutor(cores: 2, queuedPerSlot: 2, handler: handler)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let scheduler = TaskScheduler(backend: fixture.master.makeBackend())
        scheduler.start()
        defer { scheduler.stop() }
        let tasks = 300
        let result = scheduler.run(JobDescription(partitionCount: tasks, inputs: { ["in-\($0)"] }, steps: []))
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions[123].records, [Data("in-123".utf8)])
        XCTAssertEqual(handler.runCounts.count, tasks)
        XCTAssertEqual(Set(handler.runCounts.values), [1], "each task ran once")
        XCTAssertLessThanOrEqual(handler.peak, 2, "no more at once than the cores")
        XCTAssertGreaterThan(handler.started, tasks / 2, "most were started without a blocking call")
        XCTAssertEqual(handler.started + handler.ranBlocking, tasks)
    }
}
