import Foundation
import TestSupport
import XCTest

/// The web UI, REST API, /metrics and event-log history against real `sextant` processes.
final class WebUITests: XCTestCase {
    private var cluster: ClusterHarness?
    private var local: Process?

    override func tearDown() {
        cluster?.shutDown()
        TestSupport.stop(local)
    }

    /// A master and one executor run a job with one bad input; the pages, the API and the metrics
    /// agree with the job's manifest; a queued job is cancelled through the API; after a master
    /// restart the job is still listed and its page rebuilt from the event log.
    func testClusterUIAPIMetricsAndHistoryAfterRestart() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-webui")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 6, into: frames)
        let bad = frames.appendingPathComponent("bad&<i>.fits")
        try Data("not a FITS file".utf8).write(to: bad)
        let out = dir.appendingPathComponent("out")
        let cluster = ClusterHarness(directory: dir, conf: [
            "sextant.executor.heartbeatInterval=0.5s", "sextant.network.timeout=4s", "sextant.task.maxFailures=2",
            "sextant.ui.port=0", "sextant.eventLog.enabled=true",
            "sextant.eventLog.dir=\(dir.appendingPathComponent("events").path)"])
        self.cluster = cluster
        try cluster.startMaster()
        try cluster.startExecutor("e1", cores: 2)
        try cluster.waitForExecutors(1)
        var ui = try uiURL(in: { cluster.log("master") })

        let submit = try cluster.client(["submit", frames.path, "--out", out.path])
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let jobID = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Queued behind the first job, then cancelled from the API.
        let second = try cluster.client(["submit", frames.path, "--out", dir.appendingPathComponent("out2").path])
        let secondID = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let cancel = try HTTP.fetch(ui + "api/v1/jobs/\(secondID)/cancel", method: "POST")
        XCTAssertEqual(cancel.status, 202, cancel.body)

        let during = try HTTP.fetch(ui + "jobs/\(jobID)")
        XCTAssertEqual(during.status, 200)
        XCTAssertTrue(during.body.contains(jobID))
        let job = try waitForEnd(ui, jobID)
        XCTAssertEqual(job["status"] as? String, "completedWithFailures", "one input cannot be read, six were committed: not a failed job")
        XCTAssertEqual(try waitForEnd(ui, secondID)["status"] as? String, "cancelled")

        // The manifest is the truth the UI, API and metrics must agree with.
        let manifest = try Self.manifest(out)
        let committed = manifest.filter { $0["outcome"] as? String == "committed" }
        let failed = manifest.filter { $0["outcome"] as? String == "failed" }
        let rows = committed.reduce(0) { $0 + ($1["rows"] as? Int ?? 0) }
        let bytes = committed.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) }
        XCTAssertEqual(committed.count, 6)
        XCTAssertEqual(failed.count, 1)
        XCTAssertGreaterThan(rows, 0)
        XCTAssertEqual(job["inputsTotal"] as? Int, 7)
        XCTAssertEqual(job["inputsDone"] as? Int, 6)
        XCTAssertEqual(job["inputsFailed"] as? Int, 1)
        XCTAssertEqual(job["sources"] as? Int, rows)
        XCTAssertEqual(job["bytesWritten"] as? Int, bytes)

        let page = try HTTP.fetch(ui + "jobs/\(jobID)").body
        XCTAssertTrue(page.contains("6 of 7 inputs done, 1 failed"), page)
        XCTAssertTrue(page.contains("bad&amp;&lt;i&gt;.fits"), "the failed input is listed, escaped:\n\(page)")
        XCTAssertFalse(page.contains("bad&<i>"))
        XCTAssertTrue(page.contains(out.path + "/_manifest.jsonl"), page)
        XCTAssertTrue(page.contains("exec-1@e1"), "per-executor figures:\n\(page)")
        let index = try HTTP.fetch(ui).body
        XCTAssertTrue(index.contains("<a href=\"/jobs/\(jobID)\">"), index)
        XCTAssertTrue(index.contains("6 / 1 / 7"), index)

        let executors = try HTTP.json(ui + "api/v1/executors") as? [[String: Any]]
        XCTAssertEqual(executors?.first?["host"] as? String, "e1")
        XCTAssertEqual(executors?.first?["cores"] as? Int, 2)
        let heartbeatAge = try XCTUnwrap(executors?.first?["heartbeatAgeSeconds"] as? Double, "\(executors ?? [])")
        XCTAssertLessThan(heartbeatAge, 10, "a connected executor was heard from recently")
        let tasks = try XCTUnwrap(try HTTP.json(ui + "api/v1/jobs/\(jobID)/tasks") as? [[String: Any]])
        XCTAssertEqual(tasks.filter { $0["outcome"] as? String == "succeeded" }.count, 7,
                       "one input per task; an unreadable input is a failed record of a task that ran")

        // The metrics count every job this master ran: the cancelled one may have started before its cancel.
        let secondManifest = (try? Self.manifest(dir.appendingPathComponent("out2"))) ?? []
        let all = manifest + secondManifest
        func total(_ outcome: String, _ key: String? = nil) -> Double {
            let matching = all.filter { $0["outcome"] as? String == outcome }
            guard let key else { return Double(matching.count) }
            return Double(matching.reduce(0) { $0 + ($1[key] as? Int ?? 0) })
        }
        let secondTasks = try XCTUnwrap(try HTTP.json(ui + "api/v1/jobs/\(secondID)/tasks") as? [[String: Any]])
        let metrics = try Prometheus.samples(try HTTP.fetch(ui + "metrics").body)
        XCTAssertEqual(metrics["sextant_frames_total{outcome=committed}"], total("committed"))
        XCTAssertEqual(metrics["sextant_frames_total{outcome=failed}"], total("failed"))
        XCTAssertEqual(metrics["sextant_sources_total{}"], total("committed", "rows"))
        XCTAssertEqual(metrics["sextant_catalog_bytes_written_total{}"], total("committed", "bytes"))
        XCTAssertEqual(metrics["sextant_tasks_total{state=succeeded}"],
                       Double((tasks + secondTasks).filter { $0["outcome"] as? String == "succeeded" }.count))
        XCTAssertEqual(metrics["sextant_task_duration_seconds_count{}"], Double(tasks.count + secondTasks.count))
        XCTAssertEqual(metrics["sextant_executors{}"], 1)
        XCTAssertEqual(metrics["sextant_jobs_running{}"], 0)

        try Browser.screenshot(ui + "jobs/\(jobID)", name: "webui-cluster-job")
        try Browser.screenshot(ui, name: "webui-cluster-jobs")
        try Browser.screenshot(ui + "executors", name: "webui-cluster-executors")

        // A new master over the same history and event logs shows the job as it was.
        cluster.kill("master", signal: SIGTERM)
        try cluster.startMaster()
        ui = try uiURL(in: { cluster.log("master") })
        try cluster.waitForLog("master", containing: "past jobs loaded from the event logs")
        let again = try HTTP.json(ui + "api/v1/jobs/\(jobID)") as? [String: Any]
        let summary = again?["job"] as? [String: Any]
        XCTAssertEqual(summary?["status"] as? String, "completedWithFailures")
        XCTAssertEqual(summary?["sources"] as? Int, rows)
        XCTAssertEqual((again?["failures"] as? [[String: Any]])?.first?["input"] as? String, bad.path)
        XCTAssertTrue(try HTTP.fetch(ui).body.contains(jobID))
        XCTAssertTrue(try HTTP.fetch(ui + "jobs/\(jobID)").body.contains("6 of 7 inputs done, 1 failed"))
    }

    /// `sextant run --ui` serves the same pages for a local run; its cancel button (a plain POST
    /// form) stops the job; `--ui-keep` keeps the pages up after the job until Ctrl-C.
    func testLocalRunServesTheUIAndItsCancelButtonStopsTheJob() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-webui-local")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 24, into: frames)
        let out = dir.appendingPathComponent("out")
        let log = dir.appendingPathComponent("run.log")
        let process = try Sextant.start(["run", frames.path, "--out", out.path,
                                         "--master", "local[1]", "--ui", "--ui-port", "0", "--ui-keep"], logTo: log)
        local = process
        let ui = try uiURL(in: { (try? String(contentsOf: log, encoding: .utf8)) ?? "" })
        let jobs = try XCTUnwrap(try HTTP.json(ui + "api/v1/jobs") as? [[String: Any]])
        let jobID = try XCTUnwrap(jobs.first?["id"] as? String)

        // Wait for some progress, then press the button as a browser without JavaScript would.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try HTTP.json(ui + "api/v1/jobs/\(jobID)") as? [String: Any]).flatMap({
            ($0["job"] as? [String: Any])?["inputsDone"] as? Int }) ?? 0 < 2 { usleep(50_000) }
        let page = try HTTP.fetch(ui + "jobs/\(jobID)").body
        XCTAssertTrue(page.contains("<form method=\"post\" action=\"/jobs/\(jobID)/cancel\">"), page)
        XCTAssertTrue(page.contains("<meta http-equiv=\"refresh\""), "a running job's page refreshes itself")
        let press = try HTTP.fetch(ui + "jobs/\(jobID)/cancel", method: "POST")
        XCTAssertEqual(press.status, 303)

        let job = try waitForEnd(ui, jobID)
        XCTAssertEqual(job["status"] as? String, "cancelled")
        let done = try XCTUnwrap(job["inputsDone"] as? Int)
        XCTAssertLessThan(done, 24, "the job stopped early")
        let manifest = try Self.manifest(out)
        XCTAssertEqual(manifest.filter { $0["outcome"] as? String == "committed" }.count, done)
        let executors = try XCTUnwrap(try HTTP.json(ui + "api/v1/executors") as? [[String: Any]])
        XCTAssertEqual(executors.first?["cores"] as? Int, 1)
        XCTAssertEqual(executors.first?["tasksSucceeded"] as? Int, done)
        XCTAssertFalse(try HTTP.fetch(ui + "jobs/\(jobID)").body.contains("Cancel job"), "an ended job has no button")

        XCTAssertEqual(TestSupport.stop(process, signal: SIGINT, timeout: 60), 1, "a stopped job exits 1 (rerun with --resume)")
    }

    // MARK: Helpers

    private static func manifest(_ output: URL) throws -> [[String: Any]] {
        try String(contentsOf: output.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    private func uiURL(in log: () -> String, timeout: TimeInterval = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = log()
            if let range = text.range(of: "web UI at ") {
                let rest = text[range.upperBound...]
                return String(rest.prefix { !$0.isWhitespace })
            }
            usleep(50_000)
        }
        throw XCTSkip("no web UI URL in the log:\n\(log())")
    }

    /// Polls the API until the job has ended; returns its summary.
    private func waitForEnd(_ ui: String, _ jobID: String, timeout: TimeInterval = 90) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = (try HTTP.json(ui + "api/v1/jobs/\(jobID)") as? [String: Any])?["job"] as? [String: Any] ?? [:]
            if let status = last["status"] as? String, !["queued", "running"].contains(status) { return last }
            usleep(200_000)
        }
        XCTFail("job \(jobID) did not end: \(last)")
        return last
    }
}

enum HTTP {
    static func fetch(_ url: String, method: String = "GET") throws -> (status: Int, body: String) {
        let out = try TestSupport.run("/usr/bin/curl", ["-sS", "-X", method, "-o", "-", "-w", "\n%{http_code}", url])
        guard out.status == 0 else { throw TestSupportError.commandFailed("curl \(url): \(out.stderr)") }
        var lines = out.stdout.components(separatedBy: "\n")
        let status = Int(lines.removeLast()) ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    static func json(_ url: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try fetch(url).body.utf8))
    }
}

/// Parses exposition text with Prometheus' own Python client: `name{k=v,...}` -> value.
enum Prometheus {
    static func samples(_ text: String) throws -> [String: Double] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let parsed = try TestSupport.python("""
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value!r}")
            """, arguments: [file.path])
        var samples: [String: Double] = [:]
        for line in parsed.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}

/// Headless Chromium renders a page to a PNG under .test-work/artifacts/, where it is installed.
enum Browser {
    static func screenshot(_ url: String, name: String) throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            print("skipping the browser check: chromium is not installed (apt-get install chromium)")
            return
        }
        let artifacts = TestSupport.repoRoot.appendingPathComponent(".test-work/artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("\(name).png")
        try? FileManager.default.removeItem(at: png)
        let profile = try TestSupport.makeTemporaryDirectory("chromium-profile")
        let out = try TestSupport.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                 "--user-data-dir=\(profile.path)", "--screenshot=\(png.path)",
                                                 "--window-size=1200,800", url])
        XCTAssertTrue(FileManager.default.fileExists(atPath: png.path), "no screenshot: \(out.stderr)")
        let size = ((try? FileManager.default.attributesOfItem(atPath: png.path))?[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 10_000, "a rendered page is more than a blank image")
    }
}
