import Foundation
import TestSupport
import XCTest

/// `--hdu-tasks` through a real master and executor daemons: the executor that opens the file
/// hands its HDUs back to the master's scheduler, which runs each as a task of its own.
final class HDUSplitClusterTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    func testASubmittedEightCCDFileRunsOneTaskPerHDUOnTheExecutors() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-hdu-split")
        let mef = dir.appendingPathComponent("mosaic.fits").path
        _ = try TestSupport.run(TestSupport.systemPython,
                                [TestSupport.repoRoot.appendingPathComponent("scripts/bench/mosaic.py").path, mef, "8"])
        let events = dir.appendingPathComponent("events")
        let cluster = ClusterHarness(directory: dir, conf: [
            "sextant.executor.heartbeatInterval=0.5s", "sextant.network.timeout=4s", "sextant.ui.port=0",
            "sextant.eventLog.enabled=true", "sextant.eventLog.dir=\(events.path)"])
        self.cluster = cluster
        try cluster.startMaster()
        try cluster.startExecutor("e1", cores: 2)
        try cluster.startExecutor("e2", cores: 2)
        try cluster.waitForExecutors(2)

        let out = dir.appendingPathComponent("out")
        let run = try cluster.client(["run", mef, "--out", out.path, "--hdu-tasks"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr + cluster.log("master"))
        let manifest = try String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
        let entry = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])
        XCTAssertEqual(entry["outcome"] as? String, "committed")
        XCTAssertEqual(entry["split"] as? Bool, true)
        let names = (1...8).map { "mosaic.hdu\($0).cat.fits" }
        XCTAssertEqual(entry["outputs"] as? [String], names)
        for name in names {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name)
        }

        // The event log: one input (no header was read at plan time), the file's task, one task per HDU.
        let log = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: events.path)
            .first { $0.hasSuffix(".jsonl") })
        let lines = try String(contentsOf: events.appendingPathComponent(log), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let start = try XCTUnwrap(lines.first { $0["event"] as? String == "jobStart" })
        XCTAssertEqual(start["inputs"] as? Int, 1)
        let succeeded = lines.filter { $0["event"] as? String == "taskEnd" && $0["outcome"] as? String == "succeeded" }
        XCTAssertEqual(Set(succeeded.compactMap { $0["partition"] as? Int }), Set(0...8))
        XCTAssertGreaterThan(Set(succeeded.compactMap { $0["executor"] as? String }).count, 1, "HDUs ran on both executors")

        // HDU 3's catalog holds what --hdu 3 gives (the same sources).
        let single = dir.appendingPathComponent("hdu3")
        let alone = try cluster.client(["run", mef, "--out", single.path, "--hdu", "3"])
        XCTAssertEqual(alone.status, 0, alone.stdout + alone.stderr)
        let same = try TestSupport.python("""
            import sys
            from astropy.io import fits
            a, b = fits.open(sys.argv[1])[1].data, fits.open(sys.argv[2])[1].data
            print(len(a) > 0 and a.tobytes() == b.tobytes())
            """, arguments: [out.appendingPathComponent("mosaic.hdu3.cat.fits").path,
                             single.appendingPathComponent("mosaic.cat.fits").path])
        XCTAssertEqual(same.trimmingCharacters(in: .whitespacesAndNewlines), "True")
    }
}
