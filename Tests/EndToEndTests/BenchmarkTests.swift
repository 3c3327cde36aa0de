import Foundation
import TestSupport
import XCTest

/// scripts/bench/scaling in its quick mode, input-checksum in its short form, and the `datasets fetch` command's exit statuses.
final class BenchmarkTests: XCTestCase {
    func testQuickScalingRunRecordsSaneRows() throws {
        let out = try TestSupport.makeTemporaryDirectory("bench-quick")
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/bench/scaling").path
        let started = Date()
        let run = try TestSupport.run(script, ["--quick", "--out", out.path, "--sextant", Sextant.binary])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)

        let text = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try XCTUnwrap(lines.first)
        XCTAssertEqual(header, ["tool", "scaling", "workers", "frames", "objects", "wall_s", "frames_per_s", "speedup",
                                "efficiency", "cpu_s_per_frame", "peak_rss_mb", "startup_s", "first_task_s", "fps_vs_c",
                                "cpu_vs_c", "rss_vs_c", "startup_vs_c", "note"])
        let rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        let workers = min(2, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(rows.count, 2 * 2 * workers, text)
        func row(_ tool: String, _ scaling: String, _ n: Int) throws -> [String: String] {
            try XCTUnwrap(rows.first { $0["tool"] == tool && $0["scaling"] == scaling && $0["workers"] == "\(n)" },
                          "no \(tool) \(scaling) \(n) row in\n\(text)")
        }
        func number(_ row: [String: String], _ column: String) -> Double { Double(row[column] ?? "") ?? .nan }

        for scaling in ["strong", "weak"] {
            for n in 1...workers {
                let c = try row("c-floor", scaling, n), sextant = try row("sextant-local", scaling, n)
                // The same SEP calls on the same frames find the same sources.
                XCTAssertGreaterThan(number(c, "objects"), 50)
                XCTAssertEqual(c["objects"], sextant["objects"])
                for r in [c, sextant] {
                    XCTAssertGreaterThan(number(r, "frames_per_s"), 0.2, "\(r)")
                    XCTAssertEqual(number(r, "frames_per_s") * number(r, "wall_s"), number(r, "frames"), accuracy: 0.05)
                    XCTAssertGreaterThan(number(r, "cpu_s_per_frame"), 0.001, "\(r)")
                    XCTAssertLessThan(number(r, "cpu_s_per_frame"), 5, "\(r)")
                    XCTAssertGreaterThan(number(r, "peak_rss_mb"), 1, "\(r)")
                    XCTAssertLessThan(number(r, "peak_rss_mb"), 2000, "\(r)")
                    XCTAssertGreaterThan(number(r, "startup_s"), 0, "\(r)")
                    XCTAssertGreaterThan(number(r, "efficiency"), 0.05, "\(r)")
                }
                XCTAssertEqual(number(c, "fps_vs_c"), 1)
                XCTAssertEqual(number(sextant, "fps_vs_c"), number(sextant, "frames_per_s") / number(c, "frames_per_s"),
                               accuracy: 0.01)
                // The engine logged its first task launch, within a few seconds of starting.
                XCTAssertGreaterThan(number(sextant, "first_task_s"), 0)
                XCTAssertLessThan(number(sextant, "first_task_s"), 10)
            }
            XCTAssertEqual(number(try row("sextant-local", scaling, 1), "speedup"), 1)
        }
        let markdown = try String(contentsOf: out.appendingPathComponent("results.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("input checksum (`sextant.provenance.inputChecksum`): on"), markdown)
        XCTAssertTrue(markdown.contains("| sextant-local | strong | 1 |"), markdown)
    }

    func testInputChecksumBenchmarkInItsShortFormComparesOnAndOff() throws {
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/bench/input-checksum").path
        let run = try TestSupport.run(script, ["1", "1"], environment: ProcessInfo.processInfo.environment.merging(
            ["SEXTANT_BIN": Sextant.binary, "SEXTANT_BENCH_SLOTS": "1"]) { _, new in new })
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        for line in ["round 1: checksum on ", "checksum on: ", "checksum off: ", "on / off: wall ", "OpenSSL SHA-256 alone: "] {
            XCTAssertTrue(run.stdout.contains(line), "\(line) in\n\(run.stdout)")
        }
    }

    func testFetchExitsNonZeroWithOneLinePerFailedURL() throws {
        let directory = try TestSupport.makeTemporaryDirectory("fetch-cli")
        let port = ClusterHarness.freePort() // nothing listens there: the connection is refused
        let url = "http://127.0.0.1:\(port)/frame-1.fits"
        try "\(url)\n".write(to: directory.appendingPathComponent("urls.txt"), atomically: true, encoding: .utf8)
        try "remote urls urls.txt # test\nlost urls nowhere.txt\n"
            .write(to: directory.appendingPathComponent("datasets.txt"), atomically: true, encoding: .utf8)
        let datasets = directory.appendingPathComponent("datasets.txt").path

        let failed = try Sextant.run(["datasets", "fetch", "remote", "--file", datasets, "--out",
                                      directory.appendingPathComponent("out").path, "--retries", "1", "--backoff", "0.01"])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        let errors = failed.stderr.split(separator: "\n").filter { $0.hasPrefix("sextant: ") }
        XCTAssertEqual(errors.count, 1, failed.stderr)
        XCTAssertTrue(errors[0].hasPrefix("sextant: \(url): "), failed.stderr)
        XCTAssertTrue(errors[0].hasSuffix("(after 2 attempts)"), failed.stderr)
        XCTAssertTrue(failed.stdout.contains("0 of 1 files present"), failed.stdout)

        let missing = try Sextant.run(["datasets", "fetch", "lost", "--file", datasets])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nowhere.txt"), missing.stderr)
    }

    /// The scheduler-scaling helper: a hosted master, real executor processes, sleeping tasks.
    func testSleepJobTakesAtLeastItsIdealTime() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sleep-job")
        let port = ClusterHarness.freePort()
        let environment = ["SEXTANT_AUTH_SECRET": "sleep-job-secret-\(UUID().uuidString.prefix(8))", "SEXTANT_TEST_OPERATORS": "1"]
        let job = try Sextant.start(["bench", "sleep-job", "--port", "\(port)", "--executors", "2", "--tasks", "8",
                                     "--sleep-ms", "50", "--timeout", "30"],
                                    logTo: directory.appendingPathComponent("job.log"), environment: environment)
        let executors = try (1...2).map { index in
            try Sextant.start(["executor", "--master", "sextant://127.0.0.1:\(port)", "--cores", "1",
                               "--host-name", "sleeper\(index)"],
                              logTo: directory.appendingPathComponent("e\(index).log"), environment: environment)
        }
        defer {
            for process in executors + [job] { TestSupport.stop(process) }
        }
        let status = TestSupport.awaitExit(job, timeout: 120)
        let log = try String(contentsOf: directory.appendingPathComponent("job.log"), encoding: .utf8)
        XCTAssertEqual(status, 0, log)
        let line = try XCTUnwrap(log.split(separator: "\n").last { $0.hasPrefix("{") }, log)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(result["tasks"] as? Int, 8)
        XCTAssertEqual(result["executors"] as? Int, 2)
        // 8 tasks of 50 ms on 2 one-slot executors cannot take less than 4 waves.
        let seconds = try XCTUnwrap(result["seconds"] as? Double)
        XCTAssertEqual(result["ideal_seconds"] as? Double, 0.2)
        XCTAssertGreaterThanOrEqual(seconds, 0.2)
        XCTAssertLessThan(seconds, 10)
    }
}

/// scripts/bench/columns in its quick mode: every tool of both recipes runs and finds the same sources.
final class ColumnsBenchmarkTests: XCTestCase {
    func testQuickColumnsRunFindsTheSameSourcesEverywhere() throws {
        let out = try TestSupport.makeTemporaryDirectory("bench-columns")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/bench/columns").path
        let json = out.appendingPathComponent("rows.json")
        let run = try TestSupport.run(script, ["--quick", "--out", out.path, "--sextant", Sextant.binary, "--json", json.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        struct Row: Decodable { var recipe: String; var tool: String; var seconds: Double; var objects: Int }
        let rows = try JSONDecoder().decode([Row].self, from: Data(contentsOf: json))
        XCTAssertEqual(rows.count, 12, "C, C + SHA-256 (as Sextant hashes inputs), C writing catalogs, Python sep, Sextant with and without its checksum, two recipes: \(rows)")
        for recipe in ["apertures", "full"] {
            let counts = Set(rows.filter { $0.recipe == recipe }.map(\.objects))
            XCTAssertEqual(counts.count, 1, "C, Python sep and Sextant find the same sources: \(rows)")
            XCTAssertGreaterThan(counts.first ?? 0, 100)
        }
        XCTAssertTrue(rows.allSatisfy { $0.seconds > 0 })
        // The C floor's own catalogs (sep-floor -w): one committed FITS table per frame, no temporaries.
        let runs = out.appendingPathComponent("runs")
        let floorRuns = try FileManager.default.contentsOfDirectory(atPath: runs.path).filter {
            !FileManager.default.fileExists(atPath: runs.appendingPathComponent("\($0)/_manifest.jsonl").path)
        }
        XCTAssertEqual(floorRuns.count, 2, "one -w run per recipe")
        for run in floorRuns {
            let names = try FileManager.default.contentsOfDirectory(atPath: runs.appendingPathComponent(run).path)
            XCTAssertEqual(names.filter { $0.hasSuffix(".cat.fits") }.count, 3, "\(run): \(names)")
            XCTAssertEqual(names.count, 3, "\(run): \(names)")
        }
    }
}
