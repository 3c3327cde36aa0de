import Engine
import Foundation
@testable import Monitor
import XCTest

/// A job's figures come from its events alone: synthetic events in, the numbers a person would count out.
final class MonitorStateTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func taskStart(_ partition: Int, attempt: Int = 0, on executor: String = "exec-1@a", at seconds: Double) -> MonitorEvent {
        var event = MonitorEvent(.taskStart, job: "j1", time: t0.addingTimeInterval(seconds))
        event.partition = partition
        event.attempt = attempt
        event.executor = executor
        return event
    }

    func taskEnd(_ partition: Int, attempt: Int = 0, on executor: String = "exec-1@a", at seconds: Double,
                 duration: Double, outcome: String, message: String? = nil, inputs: [String] = []) -> MonitorEvent {
        var event = MonitorEvent(.taskEnd, job: "j1", time: t0.addingTimeInterval(seconds))
        event.partition = partition
        event.attempt = attempt
        event.executor = executor
        event.duration = duration
        event.outcome = outcome
        event.message = message
        event.inputNames = inputs
        return event
    }

    /// Three inputs: one commits, one fails twice then is reported failed, one is still running.
    func sampleEvents() -> [MonitorEvent] {
        [
            .jobStart("j1", inputs: 3, output: "/data/out", time: t0),
            taskStart(0, at: 1), taskStart(1, on: "exec-2@b", at: 1), taskStart(2, at: 1.5),
            taskEnd(0, at: 3, duration: 2, outcome: "succeeded", inputs: ["/in/a.fits"]),
            .input("j1", InputRecord(input: "/in/a.fits", outcome: .committed, rows: 120, bytes: 8640,
                                     executor: "exec-1@a"), time: t0.addingTimeInterval(3)),
            taskEnd(1, on: "exec-2@b", at: 4, duration: 3, outcome: "failed", message: "bad pixels"),
            taskStart(1, attempt: 1, on: "exec-2@b", at: 4),
            taskEnd(1, attempt: 1, on: "exec-2@b", at: 9, duration: 5, outcome: "failed", message: "bad pixels"),
            .input("j1", InputRecord(input: "/in/<b>.fits", outcome: .failed, attempts: 2,
                                     executor: "exec-2@b", error: "failed after 2 attempts: bad pixels"),
                   time: t0.addingTimeInterval(9)),
        ]
    }

    func monitor(_ events: [MonitorEvent], host: MonitorHost? = nil) throws -> Monitor {
        let monitor = try Monitor(settings: MonitorSettings(), host: host)
        events.forEach(monitor.record)
        return monitor
    }

    func testJobFiguresFollowTheEvents() throws {
        let monitor = try monitor(sampleEvents())
        let detail = try XCTUnwrap(monitor.jobDetail("j1", now: t0.addingTimeInterval(10)))
        XCTAssertEqual(detail.job.status, "running")
        XCTAssertEqual(detail.job.inputsTotal, 3)
        XCTAssertEqual(detail.job.inputsDone, 1)
        XCTAssertEqual(detail.job.inputsFailed, 1)
        XCTAssertEqual(detail.job.sources, 120)
        XCTAssertEqual(detail.job.bytesWritten, 8640)
        XCTAssertEqual(detail.job.durationSeconds, 10)
        XCTAssertEqual(detail.job.manifest, "/data/out/_manifest.jsonl")
        XCTAssertEqual(detail.tasksRunning, 1)
        XCTAssertEqual(detail.tasksEnded, 3)
        XCTAssertEqual(detail.failures.map(\.input), ["/in/<b>.fits"])
        XCTAssertEqual(detail.slowestTasks.map(\.duration), [5, 3, 2])
        XCTAssertEqual(detail.slowestTasks.last?.inputs, ["/in/a.fits"])

        let byExecutor = Dictionary(uniqueKeysWithValues: detail.executors.map { ($0.executor, $0) })
        XCTAssertEqual(byExecutor["exec-1@a"]?.tasksRunning, 1)
        XCTAssertEqual(byExecutor["exec-1@a"]?.tasksSucceeded, 1)
        XCTAssertEqual(byExecutor["exec-1@a"]?.sources, 120)
        XCTAssertEqual(byExecutor["exec-2@b"]?.tasksFailed, 2)
        XCTAssertEqual(byExecutor["exec-2@b"]?.tasksRunning, 0)
        XCTAssertEqual(byExecutor["exec-2@b"]?.taskSeconds, 8)

        monitor.record(.jobEnd("j1", status: "cancelled", time: t0.addingTimeInterval(12)))
        let ended = try XCTUnwrap(monitor.jobDetail("j1"))
        XCTAssertEqual(ended.job.status, "cancelled")
        XCTAssertEqual(ended.job.durationSeconds, 12)
        XCTAssertEqual(ended.tasksRunning, 0, "a job's end closes the attempts still open")
        var late = taskEnd(2, at: 13, duration: 11.5, outcome: "cancelled")
        late.job = "j1"
        monitor.record(late)
        let metrics = monitor.metricsText()
        XCTAssertTrue(metrics.contains("sextant_tasks_total{state=\"cancelled\"} 1\n"), metrics)
        XCTAssertTrue(metrics.contains("sextant_task_duration_seconds_count 4\n"), "a late end is not counted twice:\n\(metrics)")
    }

    func testHostTableWinsForStatusAndAddsJobsWithoutEvents() throws {
        let host = FakeHost()
        host.jobs = [HostJob(id: "j1", submitted: t0, started: t0, status: "succeeded", message: "done"),
                     HostJob(id: "j2", submitted: t0.addingTimeInterval(60), status: "queued")]
        host.executors = [HostExecutor(id: "exec-9@c", host: "c", cores: 8)]
        let monitor = try monitor(sampleEvents(), host: host)
        let jobs = monitor.jobSummaries()
        XCTAssertEqual(jobs.map(\.id), ["j2", "j1"], "newest first")
        XCTAssertEqual(jobs[0].status, "queued")
        XCTAssertEqual(jobs[1].status, "succeeded")
        XCTAssertEqual(jobs[1].inputsDone, 1)
        XCTAssertEqual(monitor.tasks(of: "j2"), [])
        XCTAssertNil(monitor.tasks(of: "nope"))
        XCTAssertEqual(monitor.executorSummaries().filter(\.connected).map(\.id), ["exec-9@c"])

        try monitor.cancel("j2")
        XCTAssertEqual(host.cancelled, ["j2"])
    }

    func testExecutorsFromEventsWithoutAHost() throws {
        var added = MonitorEvent(.executorAdded, job: "j1", time: t0)
        added.executor = "local"
        added.host = "box"
        added.cores = 4
        var lost = MonitorEvent(.executorAdded, job: "j1", time: t0)
        lost.executor = "exec-2@b"
        lost.host = "b"
        lost.cores = 2
        var gone = MonitorEvent(.executorLost, job: "j1", time: t0)
        gone.executor = "exec-2@b"
        let monitor = try monitor([added, lost, gone] + sampleEvents())
        let executors = monitor.executorSummaries()
        XCTAssertEqual(executors.map(\.id), ["local", "exec-2@b"])
        XCTAssertEqual(executors.map(\.connected), [true, false])
        XCTAssertEqual(executors[1].tasksFailed, 2)
        XCTAssertThrowsError(try monitor.cancel("j1")) { error in
            XCTAssertEqual(error as? MonitorError, .cannotCancel("j1", reason: "it is not running"))
        }
    }

    func testEventLogReplaysIntoTheSamePageAfterARestart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("monitor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var settings = MonitorSettings()
        settings.eventLogDirectory = dir
        let first = try Monitor(settings: settings)
        sampleEvents().forEach(first.record)
        first.record(.jobEnd("j1", status: "failed", message: "1 of 3 failed", time: t0.addingTimeInterval(12)))
        var other = MonitorEvent.jobStart("j2", inputs: 1, output: "s3://bucket/out", time: t0.addingTimeInterval(20))
        other.submitted = t0.addingTimeInterval(19)
        first.record(other)  // never ends: the process died
        first.close()

        let lines = try String(contentsOf: dir.appendingPathComponent("j1.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, sampleEvents().count + 1)
        XCTAssertTrue(lines[0].contains("\"event\":\"jobStart\""), String(lines[0]))

        // A crash mid-write leaves a partial last line: the rest of the log still counts.
        let handle = try FileHandle(forWritingTo: dir.appendingPathComponent("j1.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"event\":\"taskSt".utf8))
        try handle.close()

        let second = try Monitor(settings: settings)
        XCTAssertEqual(second.loadHistory(), 2)
        let before = try XCTUnwrap(first.jobDetail("j1"))
        let after = try XCTUnwrap(second.jobDetail("j1"))
        XCTAssertEqual(after, before)
        XCTAssertEqual(after.job.status, "failed")
        let interrupted = try XCTUnwrap(second.jobDetail("j2"))
        XCTAssertEqual(interrupted.job.status, "interrupted")
        XCTAssertEqual(interrupted.job.submitted, t0.addingTimeInterval(19))
        XCTAssertEqual(second.jobSummaries().map(\.id), ["j2", "j1"])
    }

    func testSettingsFromConfiguration() throws {
        let settings = try MonitorSettings(Configuration([
            "sextant.ui.port": "0", "sextant.ui.host": "0.0.0.0",
            "sextant.eventLog.enabled": "true", "sextant.eventLog.dir": "/tmp/ev"]))
        XCTAssertEqual(settings.port, 0)
        XCTAssertEqual(settings.host, "0.0.0.0")
        XCTAssertEqual(settings.eventLogDirectory?.path, "/tmp/ev")
        XCTAssertNil(try MonitorSettings(Configuration([:])).eventLogDirectory, "event logs are off by default")
        XCTAssertThrowsError(try MonitorSettings(Configuration(["sextant.ui.port": "70000"]))) { error in
            XCTAssertTrue("\(error)".contains("sextant.ui.port"), "\(error)")
        }
    }
}

final class FakeHost: MonitorHost, @unchecked Sendable {
    var jobs: [HostJob] = []
    var executors: [HostExecutor] = []
    var cancelled: [String] = []
    func jobTable() -> [HostJob] { jobs }
    func executorTable() -> [HostExecutor] { executors }
    func cancel(jobID: String) throws { cancelled.append(jobID) }
}
