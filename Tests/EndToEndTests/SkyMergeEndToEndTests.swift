import Foundation
import TestSupport
import XCTest

/// `sextant merge` on overlapping generated frames with a WCS, checked against an independent
/// computation (scripts/reference/sky_merge.py: astropy, the whole sky at once, no tiles) and
/// against the truth sky; and its faults, with real worker processes.
final class SkyMergeEndToEndTests: XCTestCase {
    /// Six overlapping 400x400 frames (3x2 pointings, 30 % overlap) over 500 stars at least
    /// 8" apart, extracted once for every test here.
    static let field: (frames: URL, catalogs: URL) = {
        let dir = try! TestSupport.makeTemporaryDirectory("e2e-sky")
        let frames = dir.appendingPathComponent("frames"), catalogs = dir.appendingPathComponent("catalogs")
        let made = try! Sextant.run(["datasets", "sky-field", "--out", frames.path, "--grid", "3x2", "--stars", "500"])
        precondition(made.status == 0, made.stderr)
        let ran = try! Sextant.run(["run", frames.path, "--out", catalogs.path, "--master", "local[2]"])
        precondition(ran.status == 0, ran.stderr)
        return (frames, catalogs)
    }()

    /// Order 12 tiles are ~52" across, so the 160" frames span many tiles and many sources
    /// fall near tile edges and corners: what the margin handling must get right.
    private func merge(into name: String, _ extra: [String] = [], environment: [String: String] = [:])
        throws -> (sky: URL, output: TestSupport.ProcessOutput) {
        let sky = Self.field.catalogs.deletingLastPathComponent().appendingPathComponent(name)
        let output = try Sextant.run(["merge", Self.field.catalogs.path, "--out", sky.path, "--order", "12",
                                      "--radius", "1"] + extra, environment: environment)
        return (sky, output)
    }

    private func reference(_ sky: URL) throws -> [String: Int] {
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/reference/sky_merge.py").path
        let out = try TestSupport.python(try String(contentsOfFile: script, encoding: .utf8),
                                         arguments: [Self.field.catalogs.path, sky.path, "1",
                                                     Self.field.frames.appendingPathComponent("truth.csv").path])
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Int], out)
    }

    /// The tiles and index, byte for byte (not `_merge.json`, which has times and the job id).
    static func products(_ sky: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: sky.path)
        while let path = walker?.nextObject() as? String {
            guard path.hasSuffix(".fits") || path.hasSuffix(".csv") || path == "properties" else { continue }
            files[path] = try Data(contentsOf: sky.appendingPathComponent(path))
        }
        return files
    }

    func testEachSourceOnceWithItsNDETECTAsAnIndependentComputationAndTheTruthSay() throws {
        let (sky, output) = try merge(into: "sky")
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sky.appendingPathComponent("_SUCCESS").path))
        let check = try reference(sky)
        XCTAssertEqual(check["missing"], 0, "\(check)")
        XCTAssertEqual(check["extra"], 0, "\(check)")
        XCTAssertEqual(check["merged"], check["reference"], "\(check)")
        XCTAssertEqual(check["merged"], check["mergedDistinct"], "no row twice: \(check)")
        // The overlaps are real: corners seen by four frames, many sources by two or more.
        XCTAssertEqual(check["maxNDETECT"], 4, "\(check)")
        XCTAssertGreaterThan(check["multiple"] ?? 0, 100, "\(check)")
        // Against the truth: every star some frame saw is one row; no star twice.
        let seen = try XCTUnwrap(check["truthSeen"])
        XCTAssertGreaterThan(seen, 450, "\(check)")
        XCTAssertEqual(check["truthDuplicated"], 0, "\(check)")
        XCTAssertLessThanOrEqual(Double(check["truthMissing"] ?? 1), 0.005 * Double(seen), "\(check)")

        let tiles = try Self.products(sky).keys.filter { $0.hasPrefix("Norder=12/Dir=") }
        XCTAssertGreaterThan(tiles.count, 20, "many tiles")
        let partitions = try String(contentsOf: sky.appendingPathComponent("partition_info.csv"), encoding: .utf8)
        XCTAssertEqual(partitions.split(separator: "\n").count, tiles.count + 1, partitions)
        let properties = try String(contentsOf: sky.appendingPathComponent("properties"), encoding: .utf8)
        XCTAssertTrue(properties.contains("hats_nrows=\(check["merged"]!)\n"), properties)

        // Threads instead of worker processes, one slot, other reduce partitions: the same bytes.
        let (threads, again) = try merge(into: "sky-threads", ["--master", "local[1]", "--sky-partitions", "3",
                                                                "--conf", "sextant.local.isolation=false"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try Self.products(threads), try Self.products(sky))
    }

    /// A worker process holding map outputs dies during the map stage or the reduce stage, or a
    /// map output file is deleted mid-job: the merge still succeeds with the same bytes, and
    /// the lost map outputs were recomputed.
    func testAKilledWorkerOrADeletedMapOutputLeavesTheMergedCatalogUnchanged() throws {
        let (clean, output) = try merge(into: "sky-clean", ["--master", "local[2]"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let expected = try Self.products(clean)
        let cleanReport = try report(clean)
        XCTAssertEqual(cleanReport["recomputedMapPartitions"] as? [Int], [])

        for fault in ["kill-map", "kill-reduce", "delete-map-output"] {
            let marker = clean.deletingLastPathComponent().appendingPathComponent("fired-\(fault)")
            let (sky, output) = try merge(into: "sky-\(fault)", ["--master", "local[2]"], environment: [
                "SEXTANT_TEST_OPERATORS": "1", "SEXTANT_CHAOS_SKY": "\(fault):\(marker.path)",
                "SEXTANT_CHAOS_TASK_DELAY": "0.05",
            ])
            XCTAssertEqual(output.status, 0, "\(fault): \(output.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path), "\(fault) happened")
            XCTAssertEqual(try Self.products(sky), expected, "\(fault): the same merged catalog")
            let faulty = try report(sky)
            let recomputed = faulty["recomputedMapPartitions"] as? [Int] ?? []
            switch fault {
            case "delete-map-output":
                XCTAssertEqual(recomputed, [0], "only the deleted output is recomputed")
            default:
                // Only the dead worker's map outputs (kill-map: also the partition it was running
                // is not among them unless it had finished), never all six.
                XCTAssertFalse(recomputed.isEmpty, "\(fault): \(faulty)")
                XCTAssertLessThan(recomputed.count, 6, "\(fault): \(faulty)")
                XCTAssertTrue(output.stderr.contains("died of signal 6"), output.stderr)
                XCTAssertGreaterThan(faulty["shuffleBytes"] as? Int ?? 0, cleanReport["shuffleBytes"] as? Int ?? 0,
                                     "the recomputed outputs were written again")
            }
        }
    }

    func testACatalogWithoutSkyColumnsIsOneLineAndTheRestIsMerged() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-sky-bad")
        let catalogs = dir.appendingPathComponent("catalogs")
        try FileManager.default.copyItem(at: Self.field.catalogs, to: catalogs)
        try FileManager.default.removeItem(at: catalogs.appendingPathComponent("_manifest.jsonl"))
        try Data("not a catalog".utf8).write(to: catalogs.appendingPathComponent("broken.cat.fits"))
        let output = try Sextant.run(["merge", catalogs.path, "--order", "12"])
        XCTAssertEqual(output.status, 1, output.stderr)
        let lines = output.stdout.split(separator: "\n").filter { $0.contains("broken.cat.fits") }
        XCTAssertEqual(lines.count, 1, output.stdout)
        XCTAssertTrue(output.stdout.contains("from 7"), "six real catalogs and the broken one were listed: \(output.stdout)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: catalogs.appendingPathComponent("sky/_SUCCESS").path))
    }

    /// `sextant merge --master sextant://…` on a master and two executor processes: map outputs go
    /// through the shared directory (SKY/_shuffle), and the tiles are the bytes local mode wrote.
    /// Then an executor daemon SIGKILLed as the reduce stage starts: the shared store keeps its
    /// map outputs, so nothing is recomputed; its reduce tasks run on the other executor, and
    /// the bytes are the same.
    func testOnAClusterTheMergeWritesTheBytesLocalModeWritesAndSurvivesAKilledExecutor() throws {
        let (local, output) = try merge(into: "sky-local", ["--master", "local[2]"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let expected = try Self.products(local)

        for killed in [false, true] {
            let dir = try TestSupport.makeTemporaryDirectory("e2e-sky-cluster")
            let cluster = ClusterHarness(directory: dir)
            defer { cluster.shutDown() }
            try cluster.startMaster()
            // Each map and reduce task takes at least 0.3 s, so the kill lands mid-stage.
            let slow = killed ? ["SEXTANT_TEST_OPERATORS": "1", "SEXTANT_CHAOS_TASK_DELAY": "0.3"] : [:]
            for name in ["e1", "e2"] { try cluster.startExecutor(name, environment: slow) }
            try cluster.waitForExecutors(2)
            let sky = dir.appendingPathComponent("sky")
            let log = dir.appendingPathComponent("client.log")
            let client = try Sextant.startProgram(Sextant.binary, [
                "merge", Self.field.catalogs.path, "--out", sky.path, "--order", "12", "--radius", "1",
                "--master", cluster.masterURL,
            ], logTo: log, environment: cluster.environment)
            if killed {
                try cluster.waitForLog("master", containing: "kind=result")
                cluster.kill("e1")
            }
            let status = TestSupport.awaitExit(client, timeout: 120)
            let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            XCTAssertEqual(status, 0, "\(said)\n\(cluster.log("master"))")
            XCTAssertEqual(try Self.products(sky), expected, "killed \(killed): cluster and local mode write the same bytes")
            let report = try report(sky)
            XCTAssertEqual(report["recomputedMapPartitions"] as? [Int], [], "shared outputs survive: \(report)")
            let left = FileManager.default.enumerator(atPath: sky.appendingPathComponent("_shuffle").path)?
                .allObjects.compactMap { $0 as? String }.filter { $0.hasSuffix(".data") } ?? []
            XCTAssertEqual(left, [], "the shuffle's map outputs are removed at the end")
            if killed {
                XCTAssertTrue(cluster.log("master").contains("exec-") && cluster.log("master").contains("lost"),
                              cluster.log("master"))
            }
        }
    }

    private func report(_ sky: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: sky.appendingPathComponent("_merge.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
