import Foundation
import TestSupport
import XCTest

/// A survey-sized job through the real binaries: the submission travels whole.
final class SurveyScaleTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    /// 300,000 inputs (about 30 MB of job, twice the default frame) reach the master: cancelled
    /// before any runs, its manifest still names every one of them, in order.
    func testSubmittingThreeHundredThousandInputsReachesTheMaster() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-survey-submit")
        let count = 300_000
        let names = (0..<count).map { dir.appendingPathComponent("night/frame-\(String(format: "%06d", $0)).fits").path }
        let list = dir.appendingPathComponent("inputs.txt")
        try (names.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()  // no executors: nothing runs until we cancel

        let out = dir.appendingPathComponent("out")
        let submitted = try cluster.client(["submit", "@" + list.path, "--out", out.path, "--format", "csv"])
        XCTAssertEqual(submitted.status, 0, submitted.stderr + cluster.log("master"))
        let job = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(job.hasPrefix("job-"), submitted.stdout)
        try cluster.waitForLog("master", containing: "job \(job) started", timeout: 120)
        let cancelled = try cluster.client(["cancel", job])
        XCTAssertEqual(cancelled.status, 0, cancelled.stderr)

        let manifest = out.appendingPathComponent("_manifest.jsonl")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !FileManager.default.fileExists(atPath: manifest.path) { usleep(100_000) }
        let lines = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, count, cluster.log("master"))
        for index in [0, count / 2, count - 1] {
            let entry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[index].utf8)) as? [String: Any])
            XCTAssertEqual(entry["input"] as? String, names[index])
            XCTAssertEqual(entry["outcome"] as? String, "not-run")
        }
    }

    /// scripts/bench/survey-scale in its short form: 2,000 tiny gzip'd images through a master and
    /// two executors, every catalog committed, resume skipping all, and each figure it reports sane.
    func testQuickSurveyScaleBenchmarkRunsEndToEnd() throws {
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/bench/survey-scale").path
        let work = try TestSupport.makeTemporaryDirectory("bench-survey-quick")
        let run = try TestSupport.run(script, ["--quick", "--sextant", Sextant.binary, "--work", work.path, "--keep"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        func number(_ key: String) -> Double { (result[key] as? NSNumber)?.doubleValue ?? .nan }
        XCTAssertEqual(number("inputs"), 2_000)
        XCTAssertGreaterThan(number("tasks_per_s"), 5, run.stdout)
        XCTAssertGreaterThan(number("submit_s"), 0)
        XCTAssertLessThan(number("submit_s"), number("job_wall_s"))
        XCTAssertGreaterThan(number("master_cpu_us_per_task"), 1)
        XCTAssertGreaterThan(number("master_peak_mb"), 5)
        XCTAssertGreaterThan(number("driver_peak_mb"), 5)
        // A line per input: at least the input's path and the catalog's digest.
        XCTAssertGreaterThan(number("manifest_bytes_per_input"), 100)
        XCTAssertGreaterThan(number("resume_s"), 0)
        let noOp = try XCTUnwrap(result["no_op"] as? [String: Any])
        XCTAssertGreaterThan((noOp["tasks_per_s"] as? NSNumber)?.doubleValue ?? 0, 10)
        // The executors' CPU includes their worker processes', so it is at least the daemons' own.
        let daemons = (noOp["executor_daemons_cpu_us_per_task"] as? NSNumber)?.doubleValue ?? 0
        XCTAssertGreaterThan(daemons, 0, "\(noOp)")
        XCTAssertGreaterThanOrEqual((noOp["executors_cpu_us_per_task"] as? NSNumber)?.doubleValue ?? 0, daemons)
        let resultFrames = (noOp["result_frames"] as? NSNumber)?.intValue ?? 0
        XCTAssertTrue((1...2_000).contains(resultFrames), "every result arrived in some frame, none twice: \(noOp)")
        let names = try XCTUnwrap(result["submit_names"] as? [String: Any], "submit + plan of names")
        XCTAssertEqual((names["names"] as? NSNumber)?.intValue, 10_000)
        let submitted = (names["submit_s"] as? NSNumber)?.doubleValue ?? 0
        XCTAssertGreaterThan(submitted, 0)
        XCTAssertGreaterThanOrEqual((names["submit_and_plan_s"] as? NSNumber)?.doubleValue ?? -1, submitted,
                                    "the master planned the job (its scheduler started it)")
        let dryRun = try XCTUnwrap(result["dry_run"] as? [String: Any])
        XCTAssertTrue((dryRun["report"] as? String ?? "").hasPrefix("dry run: 2000 inputs"), "\(dryRun)")

        // --resume-only: the resume step alone, a fresh master over the job just kept.
        let kept = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: work.path)
            .first { $0.hasPrefix("sextant-survey-") }, "the kept job")
        let again = try TestSupport.run(script, ["--resume-only", work.appendingPathComponent(kept).path,
                                                 "--sextant", Sextant.binary])
        XCTAssertEqual(again.status, 0, again.stderr)
        let resumed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any], again.stdout)
        XCTAssertGreaterThan((resumed["resume_s"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertGreaterThan((resumed["master_peak_mb"] as? NSNumber)?.doubleValue ?? 0, 5)
        XCTAssertTrue((resumed["resume_summary"] as? String ?? "").contains("0 catalogs committed, 2000 skipped"), "\(resumed)")
        let missing = try TestSupport.run(script, ["--resume-only", work.path, "--sextant", Sextant.binary])
        XCTAssertNotEqual(missing.status, 0, "a directory that is not a kept job is refused")
        XCTAssertTrue(missing.stderr.contains("not a kept survey-scale job"), missing.stderr)
    }
}
