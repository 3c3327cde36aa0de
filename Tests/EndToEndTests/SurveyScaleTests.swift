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
}
