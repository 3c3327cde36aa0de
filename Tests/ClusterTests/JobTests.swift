import Engine
import Foundation
import TestSupport
import XCTest
@testable import Cluster

/// A job handler driven by its payload: {"steps": n} reports n progress messages, "gated" waits for
/// the test to open the gate first, "block" runs until cancelled (a run resumed by a restarted master
/// ends at once, counting "resumed"), "fail" throws, "tasks": n runs n tasks on the cluster through the backend.
final class ScriptedJobHandler: JobHandler, @unchecked Sendable {
    struct Script: Codable {
        var steps = 0
        var gated = false
        var block = false
        var fail = false
        var tasks = 0
    }

    private let gate = NSCondition()
    private var open = false

    func openGate() {
        gate.lock(); open = true; gate.broadcast(); gate.unlock()
    }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        let script = try JSONDecoder().decode(Script.self, from: job.payload)
        if script.gated {
            gate.lock()
            while !open { gate.wait() }
            gate.unlock()
        }
        if script.fail { throw TestSupportError.commandFailed("boom in \(job.id)") }
        for step in stride(from: 1, through: script.steps, by: 1) {
            context.progress(Data("\(step)/\(script.steps)".utf8))
        }
        var counts = ["steps": script.steps]
        if script.tasks > 0 {
            let driver = TestDriver(backend: backend, tasks: TestDriver.tasks(script.tasks, job: job.id))
            driver.start()
            guard driver.waitUntilDone(timeout: 20) else { return JobOutcome(status: .failed, message: "tasks stuck") }
            counts["tasks"] = driver.snapshot { $0.accepted.count }
        }
        if job.resumed { counts["resumed"] = 1 }
        if script.block && !job.resumed {
            let stopped = DispatchSemaphore(value: 0)
            context.onCancel { stopped.signal() }
            stopped.wait()
            return JobOutcome(status: .cancelled, message: "stopped on request", counts: counts)
        }
        return JobOutcome(status: .succeeded, message: "ok", counts: counts, detail: Data("report of \(job.id)".utf8))
    }

    static func payload(_ script: Script) -> Data { try! JSONEncoder().encode(script) }
}

final class JobTests: XCTestCase {
    private var fixtures: [ClusterFixture] = []

    override func tearDown() {
        fixtures.forEach { $0.tearDown() }
    }

    private func makeFixture(history: URL? = nil, handler: ScriptedJobHandler, maxRunningJobs: Int = 16) throws -> ClusterFixture {
        let fixture = ClusterFixture(historyDirectory: history, jobHandler: handler)
        try fixture.startMaster(maxRunningJobs: maxRunningJobs)
        fixtures.append(fixture)
        return fixture
    }

    func testSubmitWaitStatusAndCancelThroughTheClient() throws {
        let handler = ScriptedJobHandler()
        let fixture = try makeFixture(handler: handler, maxRunningJobs: 1)
        let client = try fixture.client()
        defer { client.close() }

        // submit + wait with progress, in order and complete
        let first = try client.submit(ScriptedJobHandler.payload(.init(steps: 3, gated: true)), jobID: "first")
        XCTAssertEqual(first.id, "first")
        XCTAssertEqual(first.status, .queued)
        let waiter = try fixture.client()
        let progress = Locked<[String]>([])
        let finished = Locked<JobRecord?>(nil)
        let waited = expectation(description: "wait returned")
        Thread.detachNewThread {
            let record = try? waiter.wait(for: "first") { data in
                progress.update { $0.append(String(decoding: data, as: UTF8.self)) }
            }
            finished.update { $0 = record }
            waited.fulfill()
        }
        XCTAssertTrue(eventually { fixture.master.waitingClients(for: "first") == 1 })
        handler.openGate()
        wait(for: [waited], timeout: 10)
        // Coalesced (at most one frame per 100 ms): in order, the first at once, the last exact.
        XCTAssertEqual(progress.value.first, "1/3")
        XCTAssertEqual(progress.value.last, "3/3")
        XCTAssertEqual(progress.value, ["1/3", "2/3", "3/3"].filter(progress.value.contains), "in order, none twice")
        let record = try XCTUnwrap(finished.value)
        XCTAssertEqual(record.status, .succeeded)
        XCTAssertEqual(record.outcome?.counts, ["steps": 3])
        XCTAssertEqual(record.outcome?.detail, Data("report of first".utf8))
        XCTAssertLessThanOrEqual(record.submitted, try XCTUnwrap(record.started))
        XCTAssertLessThanOrEqual(try XCTUnwrap(record.started), try XCTUnwrap(record.finished))
        // Waiting on a finished job answers at once.
        XCTAssertEqual(try client.wait(for: "first", timeout: 2).status, .succeeded)

        // Bad requests are answered with a reason and the connection stays usable.
        assertFails(try client.submit(Data("{}".utf8), jobID: "first"), "job id 'first' already exists")
        assertFails(try client.submit(Data("{}".utf8), jobID: "../etc"), "invalid job id '../etc': use 1-128 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        assertFails(try client.status(of: "nope"), "no job 'nope'")
        assertFails(try client.cancel("nope"), "no job 'nope'")

        // A master-assigned id; a failing handler fails its job, not the master.
        let failing = try client.submit(ScriptedJobHandler.payload(.init(fail: true)))
        XCTAssertTrue(failing.id.hasPrefix("job-"), failing.id)
        let failed = try client.wait(for: failing.id, timeout: 10)
        XCTAssertEqual(failed.status, .failed)
        XCTAssertEqual(failed.outcome?.message, "boom in \(failing.id)")

        // Cancel: a running job through its context, a queued one at once.
        let running = try client.submit(ScriptedJobHandler.payload(.init(block: true)), jobID: "blocker")
        XCTAssertTrue(eventually { (try? client.status(of: running.id).first?.status) == .running })
        let queued = try client.submit(ScriptedJobHandler.payload(.init(steps: 1)), jobID: "behind")
        XCTAssertEqual(try client.status(of: queued.id).first?.status, .queued, "sextant.master.maxRunningJobs=1: one job at a time")
        let dropped = try client.cancel(queued.id)
        XCTAssertEqual(dropped.status, .cancelled)
        XCTAssertEqual(dropped.outcome?.message, "cancelled before it started")
        XCTAssertEqual(try client.cancel(running.id).status, .running, "asked, not yet stopped")
        let stopped = try client.wait(for: running.id, timeout: 10)
        XCTAssertEqual(stopped.status, .cancelled)
        XCTAssertEqual(stopped.outcome?.message, "stopped on request")

        let all = try client.status()
        XCTAssertEqual(all.map(\.id), ["first", failing.id, "blocker", "behind"])
        XCTAssertEqual(all.map(\.status), [.succeeded, .failed, .cancelled, .cancelled])
    }

    /// A job reporting progress for each of 200,000 inputs sends a waiting client a few frames,
    /// not 200,000, and the last one it sends before the final record is the last reported.
    func testProgressIsCoalescedAndItsLastFrameIsExact() throws {
        let handler = ScriptedJobHandler()
        let fixture = try makeFixture(handler: handler)
        let client = try fixture.client()
        defer { client.close() }
        let steps = 200_000
        _ = try client.submit(ScriptedJobHandler.payload(.init(steps: steps, gated: true)), jobID: "many")
        let frames = Locked<[String]>([])
        let finished = Locked<JobRecord?>(nil)
        let waited = expectation(description: "wait returned")
        let waiter = try fixture.client()
        defer { waiter.close() }
        Thread.detachNewThread {
            let record = try? waiter.wait(for: "many", timeout: 60) { data in
                frames.update { $0.append(String(decoding: data, as: UTF8.self)) }
            }
            finished.update { $0 = record }
            waited.fulfill()
        }
        XCTAssertTrue(eventually { fixture.master.waitingClients(for: "many") == 1 })
        let started = Date()
        handler.openGate()
        wait(for: [waited], timeout: 60)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(finished.value?.status, .succeeded)
        XCTAssertEqual(frames.value.last, "\(steps)/\(steps)", "the final count arrives exact")
        XCTAssertGreaterThanOrEqual(frames.value.count, 1)
        // About one per 100 ms of the job and the held one before the end (twice that, for a loaded machine's timers).
        XCTAssertLessThanOrEqual(frames.value.count, Int(seconds / 0.1) * 2 + 5,
                                 "\(frames.value.count) frames in \(seconds) s for \(steps) reports")
        XCTAssertLessThan(frames.value.count, steps / 1000, "far fewer frames than reports")
        let numbers = frames.value.compactMap { Int($0.split(separator: "/").first ?? "") }
        XCTAssertEqual(numbers, numbers.sorted(), "in order")
    }

    func testEveryEndedJobIsReportedOnceToTheFinishHook() throws {
        let handler = ScriptedJobHandler()
        let fixture = ClusterFixture(jobHandler: handler)
        let ended = Locked<[JobRecord]>([])
        fixture.onJobFinished = { record in ended.update { $0.append(record) } }
        try fixture.startMaster()
        fixtures.append(fixture)
        let client = try fixture.client()
        defer { client.close() }
        _ = try client.submit(ScriptedJobHandler.payload(.init(steps: 1)), jobID: "ok", settings: ["sextant.scheduler.pool": "p"])
        _ = try client.submit(ScriptedJobHandler.payload(.init(fail: true)), jobID: "boom")
        _ = try client.submit(ScriptedJobHandler.payload(.init(block: true)), jobID: "stopped")
        XCTAssertTrue(eventually { (try? client.status(of: "stopped").first?.status) == .running })
        _ = try client.cancel("stopped")
        XCTAssertTrue(eventually { ended.value.count == 3 }, "\(ended.value.map(\.id))")
        let byID = Dictionary(uniqueKeysWithValues: ended.value.map { ($0.id, $0) })
        XCTAssertEqual(byID["ok"]?.status, .succeeded)
        XCTAssertEqual(byID["ok"]?.pool, "p")
        XCTAssertEqual(byID["ok"]?.user, "local")
        XCTAssertEqual(byID["boom"]?.status, .failed)
        XCTAssertEqual(byID["stopped"]?.status, .cancelled)
    }

    func testJobHandlerRunsTasksOnExecutorsJoiningTheMaster() throws {
        let fixture = try makeFixture(handler: ScriptedJobHandler())
        fixture.startExecutor(cores: 2)
        fixture.startExecutor(cores: 1)
        XCTAssertTrue(fixture.waitForExecutors(2))
        let client = try fixture.client()
        let job = try client.submit(ScriptedJobHandler.payload(.init(tasks: 25)))
        let record = try client.wait(for: job.id, timeout: 20)
        XCTAssertEqual(record.status, .succeeded)
        XCTAssertEqual(record.outcome?.counts["tasks"], 25)
    }

    func testJobHistorySurvivesAMasterRestart() throws {
        let history = try TestSupport.makeTemporaryDirectory("sextant-history")
        defer { try? FileManager.default.removeItem(at: history) }
        let crashed = try makeFixture(history: history, handler: ScriptedJobHandler())
        let client = try crashed.client()
        let done = try client.submit(ScriptedJobHandler.payload(.init(steps: 2)), jobID: "done")
        XCTAssertEqual(try client.wait(for: done.id, timeout: 10).status, .succeeded)
        _ = try client.submit(ScriptedJobHandler.payload(.init(block: true)), jobID: "hung")
        XCTAssertTrue(eventually { (try? client.status(of: "hung").first?.status) == .running })

        // The history on disk is plain JSON, one file per job.
        let onDisk = try JSONSerialization.jsonObject(
            with: Data(contentsOf: history.appendingPathComponent("hung.json"))) as? [String: Any]
        XCTAssertEqual(onDisk?["status"] as? String, "running")
        XCTAssertEqual(onDisk?["id"] as? String, "hung")

        // A second master on the same history, while the first never got to write again: a crash.
        // It runs the cut-off job again from the submission it kept, as resumed.
        let restarted = try makeFixture(history: history, handler: ScriptedJobHandler())
        let after = try restarted.client()
        XCTAssertEqual(try after.status().map(\.id), ["done", "hung"])
        let resumed = try after.wait(for: "hung", timeout: 10)
        XCTAssertEqual(resumed.status, .succeeded)
        XCTAssertEqual(resumed.outcome?.counts, ["steps": 0, "resumed": 1])
        XCTAssertEqual(try after.status(of: "done").first?.outcome?.counts, ["steps": 2], "finished jobs are not run again")
        XCTAssertTrue(eventually { !FileManager.default.fileExists(atPath: history.appendingPathComponent("hung.submission").path) },
                      "a finished job's submission is dropped")
        XCTAssertFalse(FileManager.default.fileExists(atPath: history.appendingPathComponent("hung.payload").path),
                       "and its payload")
        assertFails(try after.submit(Data("{}".utf8), jobID: "done"), "job id 'done' already exists")
        let next = try after.submit(ScriptedJobHandler.payload(.init(steps: 1)), jobID: "next")
        XCTAssertEqual(try after.wait(for: next.id, timeout: 10).status, .succeeded)

        // A clean stop records the running job as interrupted; the next master resumes it too.
        crashed.tearDown()  // its stale copy of "hung" is recorded interrupted, without a submission to resume
        _ = try after.submit(ScriptedJobHandler.payload(.init(block: true)), jobID: "stopped")
        XCTAssertTrue(eventually { (try? after.status(of: "stopped").first?.status) == .running })
        restarted.tearDown()
        let third = try makeFixture(history: history, handler: ScriptedJobHandler())
        XCTAssertEqual(try third.client().wait(for: "stopped", timeout: 10).outcome?.counts["resumed"], 1)
        XCTAssertEqual(third.master.jobRecords.map(\.status), [.succeeded, .interrupted, .succeeded, .succeeded])
    }

    func testAJobCutOffByThreeRestartsIsNotResumedAgain() throws {
        let history = try TestSupport.makeTemporaryDirectory("sextant-history")
        defer { try? FileManager.default.removeItem(at: history) }
        // Each master "crashes" (the next one starts on the same history while it still runs the job).
        let first = try makeFixture(history: history, handler: ScriptedJobHandler())
        _ = try first.client().submit(ScriptedJobHandler.payload(.init(gated: true)), jobID: "poison")
        XCTAssertTrue(eventually { first.master.jobRecords.first?.status == .running })
        for _ in 1...3 {
            let next = try makeFixture(history: history, handler: ScriptedJobHandler())
            XCTAssertTrue(eventually { next.master.jobRecords.first?.status == .running }, "resumed again")
        }
        let last = try makeFixture(history: history, handler: ScriptedJobHandler())
        let record = try XCTUnwrap(last.master.jobRecords.first)
        XCTAssertEqual(record.status, .interrupted)
        XCTAssertEqual(record.outcome?.message, "the master stopped during this job 4 times; resubmit with --resume")
        XCTAssertFalse(FileManager.default.fileExists(atPath: history.appendingPathComponent("poison.submission").path))
    }

    /// The master keeps a job's payload as the bytes it received, in `<id>.payload` beside a small
    /// `<id>.submission`, and runs it from there after a restart; a history written when the
    /// payload sat base64-encoded inside the `.submission` still resumes.
    func testASubmissionIsKeptAsTheBytesReceivedAndAnOlderHistoryStillResumes() throws {
        let history = try TestSupport.makeTemporaryDirectory("sextant-history")
        defer { try? FileManager.default.removeItem(at: history) }
        let crashed = try makeFixture(history: history, handler: ScriptedJobHandler())
        let payload = ScriptedJobHandler.payload(.init(gated: true))
        _ = try crashed.client().submit(payload, jobID: "kept")
        XCTAssertTrue(eventually { crashed.master.jobRecords.first?.status == .running })
        XCTAssertEqual(try Data(contentsOf: history.appendingPathComponent("kept.payload")), payload, "byte for byte")
        let submission = history.appendingPathComponent("kept.submission")
        let stored = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: submission)) as? [String: Any])
        XCTAssertNil(stored["payload"], "not encoded again into the .submission")

        // The older form: the payload inside the .submission, no .payload file.
        var old = stored
        old["payload"] = ScriptedJobHandler.payload(.init(steps: 2)).base64EncodedString()
        try JSONSerialization.data(withJSONObject: old).write(to: submission)
        try FileManager.default.removeItem(at: history.appendingPathComponent("kept.payload"))
        let restarted = try makeFixture(history: history, handler: ScriptedJobHandler())
        let resumed = try restarted.client().wait(for: "kept", timeout: 10)
        XCTAssertEqual(resumed.outcome?.counts, ["steps": 2, "resumed": 1])
        XCTAssertTrue(eventually { !FileManager.default.fileExists(atPath: submission.path) })
    }

    private func assertFails<T>(_ body: @autoclosure () throws -> T, _ message: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual(error as? ClusterError, .requestFailed(message), line: line)
        }
    }
}
