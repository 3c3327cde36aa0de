import Foundation
import TestSupport
import XCTest

/// `sextant run FRAMES --sky-order K`: extraction and merge as one job of two stages (the
/// extraction's map outputs are the detections; the shuffle by tile feeds the merge), checked
/// against `sextant merge` of the same frames' catalogs, byte for byte, in local and cluster mode,
/// with --resume, and with a worker killed or a map output deleted mid-job.
final class SkyRunEndToEndTests: XCTestCase {
    private static let field = SkyMergeEndToEndTests.field
    private static let products = SkyMergeEndToEndTests.products

    /// The merge of the shared field's catalogs (`sextant merge`, order 12, 1"): what every run must write.
    static let expected: [String: Data] = {
        let sky = field.catalogs.deletingLastPathComponent().appendingPathComponent("sky-for-run")
        let merged = try! Sextant.run(["merge", field.catalogs.path, "--out", sky.path, "--order", "12", "--radius", "1"])
        precondition(merged.status == 0, merged.stderr)
        return try! products(sky)
    }()

    private func run(into out: URL, _ extra: [String] = [], environment: [String: String] = [:]) throws
        -> TestSupport.ProcessOutput {
        try Sextant.run(["run", Self.field.frames.path, "--out", out.path, "--sky-order", "12", "--match-radius", "1"]
                        + extra, environment: environment)
    }

    private func report(_ out: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: out.appendingPathComponent("sky/_merge.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testOneJobOfTwoStagesWritesTheTilesMergeWritesAndResumes() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-sky-run")
        let out = dir.appendingPathComponent("out"), events = dir.appendingPathComponent("events")
        let output = try run(into: out, ["--master", "local[2]", "--conf", "sextant.eventLog.enabled=true",
                                         "--conf", "sextant.eventLog.dir=\(events.path)"])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(try Self.products(out.appendingPathComponent("sky")), Self.expected)
        XCTAssertTrue(output.stdout.contains("6 catalogs committed"), output.stdout)

        // One job: the extraction's and the merge's summaries name the same id, the report has
        // both stages, and the event log has one job whose tasks ran in stage 0 and stage 1.
        let ids = output.stdout.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            return words.count > 1 && (words[0] == "job" || words[0] == "merge") ? String(words[1].dropLast()) : nil
        }
        XCTAssertEqual(ids.count, 2, output.stdout)
        XCTAssertEqual(Set(ids).count, 1, output.stdout)
        let sky = try report(out)
        XCTAssertEqual(sky["jobID"] as? String, ids.first)
        XCTAssertEqual(sky["stageAttempts"] as? Int, 2, "\(sky)")
        XCTAssertGreaterThan(sky["shuffleBytes"] as? Int ?? 0, 0)
        let logs = try FileManager.default.contentsOfDirectory(atPath: events.path)
        XCTAssertEqual(logs, ["\(ids.first!).jsonl"])
        let lines = try String(contentsOf: events.appendingPathComponent(logs[0]), encoding: .utf8).split(separator: "\n")
        var stages: [Int: Int] = [:]
        for line in lines {
            let event = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(event["job"] as? String, ids.first)
            if event["event"] as? String == "taskEnd", event["outcome"] as? String == "succeeded" {
                stages[event["stage"] as? Int ?? -1, default: 0] += 1
            }
        }
        XCTAssertEqual(stages, [0: 6, 1: 8], "six extraction tasks, eight merge tasks")

        // --resume: two catalogs gone; only they are extracted, the others' catalogs are read.
        for name in ["field-001.cat.fits", "field-004.cat.fits"] {
            try FileManager.default.removeItem(at: out.appendingPathComponent(name))
        }
        try FileManager.default.removeItem(at: out.appendingPathComponent("sky"))
        let resumed = try run(into: out, ["--master", "local[2]", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("2 catalogs committed, 4 skipped"), resumed.stdout)
        XCTAssertEqual(try Self.products(out.appendingPathComponent("sky")), Self.expected)
    }

    /// A worker holding the extraction's map outputs dies, or a map output is deleted before the
    /// merge reads it: only the extraction tasks whose outputs are gone run again.
    func testALostMapOutputRecomputesOnlyItsExtractionTasks() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-sky-run-faults")
        for fault in ["delete-map-output", "kill-map"] {
            let out = dir.appendingPathComponent(fault)
            let output = try run(into: out, ["--master", "local[2]"], environment: [
                "SEXTANT_TEST_OPERATORS": "1", "SEXTANT_CHAOS_SKY": "\(fault):\(dir.path)/fired-\(fault)",
                "SEXTANT_CHAOS_TASK_DELAY": "0.05",
            ])
            XCTAssertEqual(output.status, 0, "\(fault): \(output.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir.path)/fired-\(fault)"), "\(fault) happened")
            XCTAssertEqual(try Self.products(out.appendingPathComponent("sky")), Self.expected, fault)
            XCTAssertTrue(output.stdout.contains("6 catalogs committed"), output.stdout)
            let recomputed = try report(out)["recomputedMapPartitions"] as? [Int] ?? []
            if fault == "delete-map-output" {
                XCTAssertEqual(recomputed, [0], "only the extraction task whose output was deleted")
            } else {
                XCTAssertFalse(recomputed.isEmpty, output.stderr)
                XCTAssertLessThan(recomputed.count, 6, "only the dead worker's: \(recomputed)")
            }
        }
    }

    /// On a master and two executors the one job shuffles through OUT/sky/_shuffle and writes the
    /// tiles local mode writes.
    func testOnAClusterTheOneJobWritesTheBytesLocalModeWrites() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-sky-run-cluster")
        let cluster = ClusterHarness(directory: dir)
        defer { cluster.shutDown() }
        try cluster.startMaster()
        for name in ["e1", "e2"] { try cluster.startExecutor(name) }
        try cluster.waitForExecutors(2)
        let out = dir.appendingPathComponent("out")
        let output = try cluster.client(["run", Self.field.frames.path, "--out", out.path, "--sky-order", "12",
                                         "--match-radius", "1"])
        XCTAssertEqual(output.status, 0, "\(output.stdout)\n\(output.stderr)\n\(cluster.log("master"))")
        XCTAssertEqual(try Self.products(out.appendingPathComponent("sky")), Self.expected)
        let left = FileManager.default.enumerator(atPath: out.appendingPathComponent("sky/_shuffle").path)?
            .allObjects.compactMap { $0 as? String }.filter { $0.hasSuffix(".data") } ?? []
        XCTAssertEqual(left, [], "the shuffle's map outputs are removed at the end")
        XCTAssertEqual(cluster.log("master").components(separatedBy: "stages=2 status=succeeded").count, 2,
                       "one job of two stages: \(cluster.log("master"))")
    }
}
