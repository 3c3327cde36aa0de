import Foundation
@testable import Monitor
import TestSupport
import XCTest

/// Pages, API and metrics through the router (no sockets), and once through the real server.
final class WebTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let hostile = "/in/<script>alert('x')</script>&.fits"

    func makeMonitor() throws -> Monitor {
        let monitor = try Monitor(settings: MonitorSettings())
        monitor.record(.jobStart("j1", inputs: 2, output: "/out/\"q\"", time: t0))
        var start = MonitorEvent(.taskStart, job: "j1", time: t0)
        start.partition = 0
        start.executor = "exec-1@<host>"
        monitor.record(start)
        var end = start
        end.event = .taskEnd
        end.duration = 0.3
        end.outcome = "failed"
        end.message = "<b>boom</b>"
        monitor.record(end)
        monitor.record(.input("j1", InputRecord(input: hostile, outcome: .failed, error: "<b>boom</b> & more")))
        return monitor
    }

    func get(_ router: Router, _ path: String, method: String = "GET") -> (Int, String, WebResponse) {
        let response = router.respond(to: WebRequest(method: method, uri: path))
        return (response.status, String(decoding: response.body, as: UTF8.self), response)
    }

    func testEscape() {
        XCTAssertEqual(HTML.escape("<a href=\"x\">O'Neil & co</a>"),
                       "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;")
    }

    func testPagesEscapeEverythingFromInputs() throws {
        let router = Router(monitor: try makeMonitor())
        let (status, page, _) = get(router, "/jobs/j1")
        XCTAssertEqual(status, 200)
        XCTAssertFalse(page.contains("<script>"), "an input name must not become markup")
        XCTAssertFalse(page.contains("<b>boom"))
        XCTAssertFalse(page.contains("<host>"))
        XCTAssertTrue(page.contains("/in/&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;.fits"), page)
        XCTAssertTrue(page.contains("&lt;b&gt;boom&lt;/b&gt; &amp; more"))
        XCTAssertTrue(page.contains("<form method=\"post\" action=\"/jobs/j1/cancel\">"), "a running job has a cancel button")
        XCTAssertTrue(page.contains("0 of 2 inputs done, 1 failed"))

        let (_, index, _) = get(router, "/")
        XCTAssertTrue(index.contains("<a href=\"/jobs/j1\">j1</a>"), index)
        XCTAssertTrue(index.contains("0 / 1 / 2"))
        let (_, executors, _) = get(router, "/executors")
        XCTAssertTrue(executors.contains("exec-1@&lt;host&gt;") || executors.contains("No executor"), executors)
        XCTAssertFalse(executors.contains("Heartbeat age"), "no heartbeat figures, no column")
        XCTAssertEqual(get(router, "/jobs/nope").0, 404)
        XCTAssertEqual(get(router, "/nothing/here").0, 404)
    }

    func testAPI() throws {
        let router = Router(monitor: try makeMonitor())
        let (status, body, response) = get(router, "/api/v1/jobs")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(response.contentType, "application/json")
        let jobs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]])
        XCTAssertEqual(jobs.first?["id"] as? String, "j1")
        XCTAssertEqual(jobs.first?["inputsFailed"] as? Int, 1)
        XCTAssertEqual(jobs.first?["submitted"] as? String, "2027-01-15T08:00:00.000Z")

        let detail = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(get(router, "/api/v1/jobs/j1").1.utf8)) as? [String: Any])
        XCTAssertEqual((detail["failures"] as? [[String: Any]])?.first?["input"] as? String, hostile)
        let tasks = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(get(router, "/api/v1/jobs/j1/tasks").1.utf8)) as? [[String: Any]])
        XCTAssertEqual(tasks.first?["outcome"] as? String, "failed")
        XCTAssertEqual(get(router, "/api/v1/jobs/zz").0, 404)
        XCTAssertEqual(get(router, "/api/v1/jobs/j1/cancel", method: "POST").0, 409, "local job without a cancel action")
        XCTAssertEqual(get(router, "/api/v1/jobs/j1/cancel").0, 405)
        XCTAssertEqual(get(router, "/api/v1/executors").0, 200)
    }

    func testCancelFormRedirectsBackToTheJob() throws {
        let monitor = try makeMonitor()
        let cancelled = Flag()
        monitor.setCancelAction(for: "j1") { cancelled.set() }
        let (status, _, response) = get(Router(monitor: monitor), "/jobs/j1/cancel", method: "POST")
        XCTAssertEqual(status, 303)
        XCTAssertEqual(response.location, "/jobs/j1")
        XCTAssertTrue(cancelled.value)

        let other = Flag()
        monitor.setCancelAction(for: "j1") { other.set() }
        let forged = Router(monitor: monitor).respond(to: WebRequest(
            method: "POST", uri: "/jobs/j1/cancel", origin: "http://evil.example", host: "127.0.0.1:8080"))
        XCTAssertEqual(forged.status, 403, "a form on another site cannot cancel jobs")
        XCTAssertFalse(other.value)
        let sameSite = Router(monitor: monitor).respond(to: WebRequest(
            method: "POST", uri: "/jobs/j1/cancel", origin: "http://127.0.0.1:8080", host: "127.0.0.1:8080"))
        XCTAssertEqual(sameSite.status, 303)
        XCTAssertTrue(other.value)
    }

    /// The exposition text parses with Prometheus' own Python client and says what happened.
    func testMetricsParseWithPrometheusClient() throws {
        let monitor = try Monitor(settings: MonitorSettings())
        monitor.record(.jobStart("j1", inputs: 3, output: "/o", time: t0))
        for (partition, duration) in [(0, 0.07), (1, 0.3), (2, 42.0)] {
            var start = MonitorEvent(.taskStart, job: "j1")
            start.partition = partition
            start.executor = "e"
            monitor.record(start)
            var end = start
            end.event = .taskEnd
            end.duration = duration
            end.outcome = partition == 2 ? "failed" : "succeeded"
            monitor.record(end)
        }
        monitor.record(.input("j1", InputRecord(input: "a", outcome: .committed, rows: 10, bytes: 1000)))
        monitor.record(.input("j1", InputRecord(input: "b", outcome: .committed, rows: 5, bytes: 500)))
        monitor.record(.input("j1", InputRecord(input: "c", outcome: .failed, error: "x")))
        let text = monitor.metricsText()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let parsed: String
        do {
            parsed = try TestSupport.python("""
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    print(f"{family.type} {s.name}{{{labels}}} {s.value:g}")
            """, arguments: [file.path])
        } catch {
            throw XCTSkip("prometheus_client is not installed for /usr/bin/python3: \(error)")
        }
        let lines = Set(parsed.split(separator: "\n").map(String.init))
        for expected in [
            "counter sextant_tasks_total{state=started} 3",
            "counter sextant_tasks_total{state=succeeded} 2",
            "counter sextant_tasks_total{state=failed} 1",
            "histogram sextant_task_duration_seconds_bucket{le=0.1} 1",
            "histogram sextant_task_duration_seconds_bucket{le=0.5} 2",
            "histogram sextant_task_duration_seconds_bucket{le=30} 2",
            "histogram sextant_task_duration_seconds_bucket{le=60} 3",
            "histogram sextant_task_duration_seconds_bucket{le=+Inf} 3",
            "histogram sextant_task_duration_seconds_count{} 3",
            "histogram sextant_task_duration_seconds_sum{} 42.37",
            "counter sextant_frames_total{outcome=committed} 2",
            "counter sextant_frames_total{outcome=failed} 1",
            "counter sextant_sources_total{} 15",
            "counter sextant_catalog_bytes_written_total{} 1500",
            "gauge sextant_tasks_running{} 0",
            "gauge sextant_jobs_running{} 1",
        ] {
            XCTAssertTrue(lines.contains(expected), "missing '\(expected)' in:\n\(parsed)")
        }
    }

    /// Real sockets: curl-like GET and POST through NIO's HTTP/1.1 pipeline.
    func testServerAnswersOverHTTP() throws {
        let monitor = try makeMonitor()
        let server = WebServer(monitor: monitor)
        let url = try server.start(host: "127.0.0.1", port: 0)
        defer { server.stop() }
        XCTAssertTrue(url.hasPrefix("http://127.0.0.1:"), url)
        let page = try fetch(url + "jobs/j1")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("0 of 2 inputs done"))
        let metrics = try fetch(url + "metrics")
        XCTAssertEqual(metrics.type, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(metrics.body.contains("# TYPE sextant_task_duration_seconds histogram"))
        XCTAssertEqual(try fetch(url + "api/v1/jobs/j1/cancel", method: "POST").status, 409)
    }

    func fetch(_ url: String, method: String = "GET") throws -> (status: Int, type: String, body: String) {
        let out = try TestSupport.run("/usr/bin/curl", ["-sS", "-X", method, "-o", "-", "-w", "\n%{http_code} %{content_type}", url])
        XCTAssertEqual(out.status, 0, out.stderr)
        let parts = out.stdout.components(separatedBy: "\n")
        let last = parts.last ?? ""
        let space = last.firstIndex(of: " ") ?? last.endIndex
        return (Int(last[..<space]) ?? 0, String(last[space...].dropFirst()), parts.dropLast().joined(separator: "\n"))
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false
    func set() { lock.lock(); isSet = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return isSet }
}
