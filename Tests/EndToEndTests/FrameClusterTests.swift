import Foundation
import TestSupport
import XCTest

/// `--where` and the frame table of a job submitted to a master: the master reads the headers,
/// executors measure the frames, the master's driver writes the table.
final class FrameClusterTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    func testASubmittedJobSelectsByHeaderAndWritesItsFrameTable() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-frames-cluster")
        let frames = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        _ = try TestSupport.python(FrameFixtures.generator, arguments: [frames.path])
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        try cluster.startExecutor("e1")
        try cluster.waitForExecutors(1)

        let out = dir.appendingPathComponent("out")
        let run = try cluster.client(["run", frames.path, "--out", out.path, "--where", #"FILTER == "r" && EXPTIME >= 30"#])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr + cluster.log("master"))
        let manifest = try String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let outcomes = Dictionary(uniqueKeysWithValues: manifest.map {
            (URL(fileURLWithPath: $0["input"] as? String ?? "").deletingPathExtension().lastPathComponent,
             $0["outcome"] as? String ?? "")
        })
        XCTAssertEqual(outcomes, ["f0": "committed", "f4": "committed", "f1": "excluded", "f2": "excluded",
                                  "f3": "excluded", "f5": "excluded"])
        // Python's csv module reads the quoted REASON cells (they hold commas) as the standard says.
        let widths = try TestSupport.python(#"""
            import csv, sys
            rows = list(csv.DictReader(open(sys.argv[1])))
            print(len(rows), " ".join(r["FWHM"] for r in rows if r["OUTCOME"] == "committed"))
            print(sum(1 for r in rows if r["OUTCOME"] == "excluded" and r["REASON"].startswith("--where")))
            """#, arguments: [out.appendingPathComponent("_frames.csv").path]).split(separator: "\n")
        let first = widths[0].split(separator: " ")
        XCTAssertEqual(first.first, "7", "f0, the mosaic's two CCDs and a row per excluded input")
        XCTAssertEqual(first.dropFirst().count, 3)
        for width in first.dropFirst() { XCTAssertGreaterThan(Double(width) ?? 0, 2.8, "measured on the executor") }
        XCTAssertEqual(widths[1], "4")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("_frames.fits").path))
    }
}
