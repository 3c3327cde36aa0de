import Foundation
import TestSupport
import XCTest

/// The master's portal and REST API with real processes: users with tokens from `sextant users
/// add`, a job submitted over REST and one through the form in headless Chromium
/// (scripts/portal-browser-check), downloads read with astropy, isolation between users, and
/// schemathesis against the OpenAPI document.
final class PortalTests: XCTestCase {
    private var cluster: ClusterHarness!
    private var dir: URL!
    private var ui = ""
    private var hookReceiver: Process?

    override func tearDown() {
        cluster?.shutDown()
        TestSupport.stop(hookReceiver, signal: SIGTERM)
    }

    /// A tiny HTTP server that appends every POST body it gets, a line each, to `file`.
    private func startHookReceiver(port: Int, file: URL) throws {
        let server = """
        import http.server, sys
        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                with open(sys.argv[2], 'ab') as out: out.write(body + b'\\n')
                self.send_response(204); self.end_headers()
            def log_message(self, *args): pass
        http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Hook).serve_forever()
        """
        hookReceiver = try Sextant.startProgram("/usr/bin/python3", ["-c", server, "\(port)", file.path],
                                                logTo: dir.appendingPathComponent("hook.log"))
    }

    /// A master with a secret, two users (alice, bob) and an admin (carol), one executor of two cores;
    /// one job at a time, so the browser can cancel a queued job.
    private func startCluster() throws {
        dir = try TestSupport.makeTemporaryDirectory("e2e-portal")
        let hookPort = ClusterHarness.freePort()
        try startHookReceiver(port: hookPort, file: dir.appendingPathComponent("hooks.jsonl"))
        cluster = ClusterHarness(directory: dir, conf: [
            "sextant.master.webhook=http://127.0.0.1:\(hookPort)/hook",
            "sextant.executor.heartbeatInterval=0.5s", "sextant.network.timeout=4s", "sextant.ui.port=0",
            "sextant.eventLog.enabled=true", "sextant.eventLog.dir=\(dir.appendingPathComponent("events").path)",
            "sextant.master.maxRunningJobs=1",
            // Fuzzed submissions name any path: the master lists and writes only under the test's directory.
            "sextant.executor.allowedRoots=\(dir.path)"])
        for (user, admin) in [("alice", false), ("bob", false), ("carol", true)] {
            let token = dir.appendingPathComponent("\(user).token")
            let out = try Sextant.run(["users", "add", user, "--out", token.path,
                                       "--users-file", dir.appendingPathComponent("history/users.list").path]
                                      + (admin ? ["--admin"] : []), environment: cluster.environment)
            XCTAssertEqual(out.status, 0, out.stderr)
            // curl reads the header from a file: the token is never on a command line.
            let header = dir.appendingPathComponent("\(user).header")
            let text = "Authorization: Bearer \(try String(contentsOf: token, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))\n"
            XCTAssertTrue(FileManager.default.createFile(atPath: header.path, contents: Data(text.utf8),
                                                        attributes: [.posixPermissions: 0o600]))
        }
        try cluster.startMaster()
        try cluster.startExecutor("e1", cores: 2)
        try cluster.waitForExecutors(1)
        ui = try uiURL()
    }

    private func uiURL(timeout: TimeInterval = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let range = cluster.log("master").range(of: "web UI at ") {
                return String(cluster.log("master")[range.upperBound...].prefix { !$0.isWhitespace })
            }
            usleep(50_000)
        }
        XCTFail("no web UI URL in the log:\n\(cluster.log("master"))")
        return ""
    }

    /// curl as `user` (nil: no token); the body from `json` when given.
    private func request(_ path: String, as user: String?, method: String = "GET", json: String? = nil,
                         jsonFile: URL? = nil, saveTo file: URL? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-sS", "-X", method, "-o", file?.path ?? "-", "-w", "\n%{http_code}"]
        if let user { arguments += ["-H", "@" + dir.appendingPathComponent("\(user).header").path] }
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        if let jsonFile { arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + jsonFile.path] }
        let out = try TestSupport.run("/usr/bin/curl", arguments + [ui + path])
        XCTAssertEqual(out.status, 0, out.stderr)
        var lines = out.stdout.components(separatedBy: "\n")
        let status = Int(lines.removeLast()) ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    private func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    private func waitForEnd(_ id: String, as user: String, timeout: TimeInterval = 120) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var job: [String: Any] = [:]
        while Date() < deadline {
            job = object(try request("api/v1/jobs/\(id)", as: user).body)["job"] as? [String: Any] ?? [:]
            if let status = job["status"] as? String, !["queued", "running"].contains(status) { return job }
            usleep(200_000)
        }
        XCTFail("job \(id) did not end: \(job)")
        return job
    }

    func testRESTUsersDownloadsBrowserAndSchema() throws {
        try startCluster()
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 3, into: frames)
        try Data("not a FITS file".utf8).write(to: frames.appendingPathComponent("broken.fits"))
        let out = dir.appendingPathComponent("out")

        // Nobody gets anything without a token; the schema is public.
        XCTAssertEqual(try request("api/v1/jobs", as: nil).status, 401)
        XCTAssertEqual(try request("", as: nil).status, 303, "pages send the browser to /login")
        XCTAssertEqual(try request("api/v1/openapi.json", as: nil).status, 200)

        // alice submits over REST with a parameter and a pool, the same words as `sextant submit`.
        let body = #"{"inputs": ["\#(frames.path)"], "output": "\#(out.path)", "jobID": "rest-1", "parameters": {"threshold": "3"}, "pool": "team"}"#
        let submitted = try request("api/v1/jobs", as: "alice", method: "POST", json: body)
        XCTAssertEqual(submitted.status, 201, submitted.body)
        XCTAssertEqual(object(submitted.body)["id"] as? String, "rest-1")
        let bad = try request("api/v1/jobs", as: "alice", method: "POST",
                              json: #"{"inputs": ["/x"], "output": "/y", "parameters": {"sex-config": "/etc/passwd"}}"#)
        XCTAssertEqual(bad.status, 400, "a flag naming a file on the master is refused: \(bad.body)")
        let job = try waitForEnd("rest-1", as: "alice")
        XCTAssertEqual(job["status"] as? String, "completedWithFailures", "3 committed, 1 broken: not a failed job")
        XCTAssertEqual(job["inputsFailed"] as? Int, 1)
        // The webhook heard of it: the record, with its user and pool.
        let hooks = dir.appendingPathComponent("hooks.jsonl")
        XCTAssertTrue(TestSupport.eventually(20) {
            ((try? String(contentsOf: hooks, encoding: .utf8)) ?? "").contains("\"id\":\"rest-1\"")
        }, "no webhook call for rest-1: \((try? String(contentsOf: hooks, encoding: .utf8)) ?? "none")")
        let hook = ((try? String(contentsOf: hooks, encoding: .utf8)) ?? "").split(separator: "\n")
            .map { object(String($0)) }.first { $0["id"] as? String == "rest-1" } ?? [:]
        XCTAssertEqual(hook["user"] as? String, "alice")
        XCTAssertEqual(hook["pool"] as? String, "team")
        XCTAssertEqual(hook["status"] as? String, "completedWithFailures")
        let page = try request("jobs/rest-1", as: "alice").body
        XCTAssertTrue(page.contains("completed with failures"), page)
        XCTAssertTrue(page.contains("<svg class=\"timeline\""), "the job page has a task timeline")

        // bob cannot see, wait on or cancel alice's job; carol (admin) can see it.
        XCTAssertFalse(try request("api/v1/jobs", as: "bob").body.contains("rest-1"))
        XCTAssertEqual(try request("api/v1/jobs/rest-1", as: "bob").status, 404)
        XCTAssertEqual(try request("api/v1/jobs/rest-1/cancel", as: "bob", method: "POST").status, 404)
        XCTAssertEqual(try request("api/v1/jobs/rest-1/manifest", as: "bob").status, 404)
        XCTAssertEqual(try request("jobs/rest-1", as: "bob").status, 404)
        XCTAssertTrue(try request("api/v1/jobs", as: "carol").body.contains("rest-1"))
        let status = try cluster.client(["status"])  // the shared secret: an admin on the wire too
        XCTAssertTrue(status.stdout.contains("rest-1"), status.stdout + status.stderr)
        let row = try XCTUnwrap(status.stdout.split(separator: "\n").first { $0.hasPrefix("rest-1 ") }, status.stdout)
        XCTAssertEqual(row.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first, "alice",
                       "status shows who submitted the job: \(status.stdout)")

        // Downloads: the manifest, one catalog (read with astropy), all as one tar, the event log.
        let manifest = try request("api/v1/jobs/rest-1/manifest", as: "alice")
        XCTAssertEqual(manifest.status, 200)
        XCTAssertEqual(manifest.body.split(separator: "\n").count, 4)
        let catalogs = try JSONSerialization.jsonObject(with: Data(try request("api/v1/jobs/rest-1/catalogs", as: "alice").body.utf8)) as? [String]
        XCTAssertEqual(catalogs?.count, 3)
        let catalog = dir.appendingPathComponent("one.fits")
        XCTAssertEqual(try request("api/v1/jobs/rest-1/catalogs/\(try XCTUnwrap(catalogs?.first))", as: "alice", saveTo: catalog).status, 200)
        let rows = try TestSupport.run("/usr/bin/python3", ["-c", "import sys; from astropy.table import Table; print(len(Table.read(sys.argv[1], hdu=1)))", catalog.path])
        XCTAssertEqual(rows.status, 0, rows.stderr)
        XCTAssertGreaterThan(Int(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0)
        let tar = dir.appendingPathComponent("all.tar")
        XCTAssertEqual(try request("api/v1/jobs/rest-1/catalogs.tar", as: "alice", saveTo: tar).status, 200)
        let listed = try TestSupport.run("/usr/bin/tar", ["-tf", tar.path])
        XCTAssertEqual(listed.stdout.split(separator: "\n").count, 3, listed.stdout + listed.stderr)
        XCTAssertEqual(try request("api/v1/jobs/rest-1/catalogs/../../../etc/passwd", as: "alice").status, 404)
        XCTAssertEqual(try request("api/v1/jobs/rest-1/log", as: "alice").status, 200)

        // A FITS file uploaded with the job (base64 in the JSON body) is stored where executors read it.
        let upload = try Data(contentsOf: frames.appendingPathComponent(try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: frames.path).sorted().first { $0.hasPrefix("small") })))
        let uploadBody = dir.appendingPathComponent("upload.json")
        try JSONSerialization.data(withJSONObject: ["inputs": [], "output": dir.appendingPathComponent("out-upload").path,
                                                    "jobID": "rest-upload", "uploads": ["mine.fits": upload.base64EncodedString()]])
            .write(to: uploadBody)
        let uploaded = try request("api/v1/jobs", as: "alice", method: "POST", jsonFile: uploadBody)
        XCTAssertEqual(uploaded.status, 201, uploaded.body)
        XCTAssertEqual(try waitForEnd("rest-upload", as: "alice")["status"] as? String, "succeeded")
        XCTAssertEqual(try request("api/v1/jobs/rest-upload/catalogs", as: "alice").body
                        .contains("mine.cat.fits"), true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("history/uploads/rest-upload/mine.fits").path))

        // The browser: log in, submit through the form, watch, download a catalog and read it.
        let findings = try browser("download", frames)
        XCTAssertEqual(findings["user"] as? String, "alice")
        XCTAssertEqual(findings["status"] as? String, "completed with failures")
        XCTAssertGreaterThan(findings["rows"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(findings["timelineBars"] as? Int ?? 0, 0)
        // Then cancel a job waiting behind another (no executor now: nothing finishes under the click).
        cluster.kill("e1")
        let cancelled = try browser("cancel", frames)
        XCTAssertEqual(cancelled["cancelled"] as? String, "browser-queued")
        XCTAssertEqual(try waitForEnd("browser-queued", as: "alice")["status"] as? String, "cancelled")
        XCTAssertEqual(try waitForEnd("browser-first", as: "alice")["status"] as? String, "cancelled")
        XCTAssertFalse(try request("api/v1/jobs", as: "bob").body.contains("browser-job"))

        // No token reaches the master's log.
        for user in ["alice", "bob", "carol"] {
            let token = try String(contentsOf: dir.appendingPathComponent("\(user).token"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertFalse(cluster.log("master").contains(token))
            XCTAssertFalse(cluster.log("master").contains(String(token.suffix(64))))
        }
        try schemathesis()
    }

    /// scripts/portal-browser-check in `mode`, as alice; its findings.
    private func browser(_ mode: String, _ inputs: URL) throws -> [String: Any] {
        let run = try TestSupport.run("/usr/bin/python3", [
            TestSupport.repoRoot.appendingPathComponent("scripts/portal-browser-check").path, mode, ui,
            dir.appendingPathComponent("alice.token").path, inputs.path,
            dir.appendingPathComponent("browser-out").path, dir.appendingPathComponent("downloads").path], timeout: 300)
        XCTAssertEqual(run.status, 0, run.stderr)
        return object(run.stdout.split(separator: "\n").last.map(String.init) ?? "")
    }

    /// schemathesis fuzzes every operation of the OpenAPI document as carol (an admin): no 5xx.
    private func schemathesis() throws {
        let candidates = [ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.pyenv/shims/st" },
                          "/usr/local/bin/st", "/usr/bin/st"].compactMap { $0 }
        guard let st = candidates.first(where: FileManager.default.isExecutableFile) else {
            return XCTFail("schemathesis is not installed (scripts/setup installs it: pip install schemathesis)")
        }
        let token = try String(contentsOf: dir.appendingPathComponent("carol.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The header goes through the environment into a config file, not the command line.
        let config = dir.appendingPathComponent("schemathesis.toml")
        try Data(#"headers = { Authorization = "Bearer ${SEXTANT_PORTAL_TOKEN}" }"#.utf8).write(to: config)
        let run = try TestSupport.run(st, ["--config-file", config.path, "run", ui + "api/v1/openapi.json",
                                           "--checks", "not_a_server_error", "--max-examples", "20", "--no-color"],
                                      environment: ["SEXTANT_PORTAL_TOKEN": token],
                                      currentDirectory: dir, timeout: 300)  // its cache stays out of the repository
        XCTAssertEqual(run.status, 0, "schemathesis found a server error:\n\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))")
    }
}
