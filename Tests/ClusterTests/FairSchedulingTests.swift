import Engine
import Foundation
import XCTest
@testable import Cluster

/// When each task started on an executor, and for which job.
final class TaskStarts: @unchecked Sendable {
    private let lock = NSLock()
    private var starts: [(job: String, at: Date)] = []

    func record(_ job: String) { lock.withLock { starts.append((job, Date())) } }

    func of(_ job: String) -> [Date] { lock.withLock { starts.filter { $0.job == job }.map(\.at) } }

    /// Starts of `job` among all starts between `from` and `to`, as a fraction.
    func share(of job: String, among jobs: [String], from: Date, to: Date) -> (fraction: Double, count: Int) {
        let window = lock.withLock { starts.filter { jobs.contains($0.job) && $0.at >= from && $0.at <= to } }
        let mine = window.filter { $0.job == job }.count
        return (window.isEmpty ? 0 : Double(mine) / Double(window.count), window.count)
    }
}

/// A job of {"tasks": n} one-input tasks run on the cluster through the backend the master gives it.
final class TaskCountJobHandler: JobHandler, @unchecked Sendable {
    struct Script: Codable { var tasks: Int }
    private let lock = NSLock()
    private var lastAssigned: [String: Date] = [:]

    /// When `job`'s driver handed its last task to the master (after which it has nothing to assign).
    func lastAssignment(of job: String) -> Date? { lock.withLock { lastAssigned[job] } }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        let script = try JSONDecoder().decode(Script.self, from: job.payload)
        let driver = TestDriver(backend: backend, tasks: TestDriver.tasks(script.tasks, job: job.id))
        driver.start()
        guard driver.waitUntilDone(timeout: 60) else { return JobOutcome(status: .failed, message: "tasks stuck") }
        let assigned = driver.snapshot(\.lastAssigned)
        lock.withLock { lastAssigned[job.id] = assigned }
        return JobOutcome(status: .succeeded, counts: ["tasks": driver.snapshot { $0.accepted.count }])
    }

    static func payload(_ tasks: Int) -> Data { try! JSONEncoder().encode(Script(tasks: tasks)) }
}

/// The master's fair scheduler: concurrent jobs share the executors' slots by pool
/// (`sextant.master.pools`, `sextant.scheduler.pool`), with sleeping tasks standing in for extraction.
final class FairSchedulingTests: XCTestCase {
    private var fixture: ClusterFixture!
    private let starts = TaskStarts()
    private let handler = TaskCountJobHandler()

    override func tearDown() {
        fixture?.tearDown()
    }

    /// Two executors of two cores: four slots, and (tasks of `taskSeconds`, 2 ms or more, fill the queue of
    /// sextant.executor.queuedTasksPerSlot to one a core: QueueDepth) four queued tasks, eight assigned in all.
    private func startCluster(pools: [PoolDefinition] = [], taskSeconds: TimeInterval) throws -> ClusterClient {
        fixture = ClusterFixture(jobHandler: handler)
        try fixture.startMaster(pools: pools)
        let starts = self.starts
        for _ in 0..<2 {
            fixture.startExecutor(cores: 2) { spec, executor in
                starts.record(spec.id.jobID)
                return upperCasing(delay: taskSeconds)(spec, executor)
            }
        }
        XCTAssertTrue(fixture.waitForExecutors(2))
        return try fixture.client()
    }

    private func submit(_ client: ClusterClient, _ id: String, tasks: Int, pool: String? = nil) throws {
        let settings = pool.map { [SchedulerKeys.pool.name: $0] } ?? [:]
        _ = try client.submit(TaskCountJobHandler.payload(tasks), jobID: id, settings: settings)
    }

    private func finished(_ client: ClusterClient, _ id: String) throws -> JobRecord {
        let record = try client.wait(for: id, timeout: 60)
        XCTAssertEqual(record.status, .succeeded, "\(id): \(record.outcome?.message ?? "")")
        return record
    }

    func testASmallJobSubmittedBehindALargeOneStartsAtOnceAndFinishesFirst() throws {
        let client = try startCluster(taskSeconds: 0.03)
        defer { client.close() }
        try submit(client, "large", tasks: 200)  // 200 x 30 ms on 4 slots: 1.5 s alone
        Thread.sleep(forTimeInterval: 0.5)
        let submitted = Date()
        try submit(client, "small", tasks: 5)
        let small = try finished(client, "small")
        let large = try finished(client, "large")
        let firstSmall = try XCTUnwrap(starts.of("small").min())
        XCTAssertLessThan(firstSmall.timeIntervalSince(submitted), 0.5, "the small job waited for a slot")
        XCTAssertLessThan(try XCTUnwrap(small.finished), try XCTUnwrap(large.finished), "the small job finished first")
        print("fair scheduling: the small job's first task started \(String(format: "%.3f", firstSmall.timeIntervalSince(submitted))) s "
              + "after its submission; it finished \(String(format: "%.2f", try XCTUnwrap(large.finished).timeIntervalSince(try XCTUnwrap(small.finished)))) s before the large one")
        XCTAssertEqual(large.outcome?.counts["tasks"], 200)
        XCTAssertEqual(small.outcome?.counts["tasks"], 5)
    }

    func testTwoEqualJobsEachGetAboutHalfTheSlots() throws {
        let client = try startCluster(taskSeconds: 0.02)
        defer { client.close() }
        try submit(client, "a", tasks: 120)
        try submit(client, "b", tasks: 120)
        _ = try finished(client, "a")
        _ = try finished(client, "b")
        let share = overlapShare(of: "a", with: "b")
        XCTAssertGreaterThan(share.count, 60, "too little overlap to judge")
        XCTAssertEqual(share.fraction, 0.5, accuracy: 0.12, "job a took \(share.fraction) of \(share.count) starts")
    }

    func testPoolsShareByWeight() throws {
        let client = try startCluster(pools: [PoolDefinition(name: "heavy", weight: 3), PoolDefinition(name: "light")],
                                      taskSeconds: 0.02)
        defer { client.close() }
        try submit(client, "h", tasks: 150, pool: "heavy")
        try submit(client, "l", tasks: 60, pool: "light")
        _ = try finished(client, "h")
        _ = try finished(client, "l")
        let share = overlapShare(of: "h", with: "l")
        XCTAssertGreaterThan(share.count, 40, "too little overlap to judge")
        XCTAssertEqual(share.fraction, 0.75, accuracy: 0.12, "weight 3 to 1: the heavy pool took \(share.fraction)")
    }

    /// Shares count queued tasks as assigned: minShare 6 of the 8 tasks the executors hold.
    func testAPoolGetsItsMinimumShareFirst() throws {
        let client = try startCluster(pools: [PoolDefinition(name: "stream", weight: 1, minShare: 6)], taskSeconds: 0.02)
        defer { client.close() }
        try submit(client, "batch", tasks: 200)
        Thread.sleep(forTimeInterval: 0.2)
        try submit(client, "micro", tasks: 60, pool: "stream")
        _ = try finished(client, "micro")
        _ = try finished(client, "batch")
        let share = overlapShare(of: "micro", with: "batch")
        XCTAssertGreaterThan(share.count, 40, "too little overlap to judge")
        XCTAssertEqual(share.fraction, 0.75, accuracy: 0.12, "minShare 6 of 8 assigned: the stream pool took \(share.fraction)")
    }

    func testJobsInAFIFOPoolRunOneAfterAnother() throws {
        let client = try startCluster(pools: [PoolDefinition(name: "batch", mode: .fifo)], taskSeconds: 0.02)
        defer { client.close() }
        try submit(client, "first", tasks: 40, pool: "batch")
        Thread.sleep(forTimeInterval: 0.1)
        try submit(client, "second", tasks: 10, pool: "batch")
        _ = try finished(client, "first")
        _ = try finished(client, "second")
        // FIFO is about assignment: while the first job still has tasks to hand out, every slot that frees
        // is its own. Its last tasks may then wait in an executor's queue while the other executor, with
        // nothing of the first job's left to run, starts the second job: that is not a breach.
        let firstDone = try XCTUnwrap(handler.lastAssignment(of: "first"))
        let early = starts.of("second").filter { $0 < firstDone }.count
        // The first job holds each slot it frees for a grace of 50 ms until it launches again; on a loaded
        // machine a relaunch may come later than that, so one or two early starts are tolerated, not ten.
        XCTAssertLessThanOrEqual(early, 2, "FIFO within a pool: \(early) of the second job's 10 tasks started before the first job had assigned its last")
        XCTAssertGreaterThan(try XCTUnwrap(starts.of("second").max()), try XCTUnwrap(starts.of("first").max()),
                             "the second job ran beside the first rather than after it")
    }

    func testPoolDefinitionsParseAndRefuseBadOnes() throws {
        let pools = try PoolDefinition.parse("streaming:weight=2:minShare=4, batch:mode=fifo,default:mode=fifo")
        XCTAssertEqual(pools, [PoolDefinition(name: "streaming", weight: 2, minShare: 4),
                               PoolDefinition(name: "batch", mode: .fifo),
                               PoolDefinition(name: "default", mode: .fifo)])
        XCTAssertEqual(try PoolDefinition.parse(""), [])
        for bad in ["x:weight=0", "x:minShare=-1", "x:mode=lottery", "x:colour=red", ":weight=1", "x,x", "x:weight"] {
            XCTAssertThrowsError(try PoolDefinition.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("sextant.master.pools: "), "\(error)")
            }
        }
    }

    func testASubmissionNamingAnInvalidPoolIsRefused() throws {
        let client = try startCluster(taskSeconds: 0)
        defer { client.close() }
        XCTAssertThrowsError(try submit(client, "bad", tasks: 1, pool: "no spaces/allowed")) { error in
            XCTAssertTrue("\(error)".contains("invalid pool"), "\(error)")
        }
    }

    /// `job`'s fraction of the task starts while both jobs still had tasks to start.
    private func overlapShare(of job: String, with other: String) -> (fraction: Double, count: Int) {
        let mine = starts.of(job), theirs = starts.of(other)
        guard let from = [mine.min(), theirs.min()].compactMap({ $0 }).max(),
              let to = [mine.max(), theirs.max()].compactMap({ $0 }).min() else { return (0, 0) }
        let share = starts.share(of: job, among: [job, other], from: from, to: to)
        print("fair scheduling: \(job) took \(String(format: "%.3f", share.fraction)) of \(share.count) task starts while \(other) also ran")
        return share
    }
}
