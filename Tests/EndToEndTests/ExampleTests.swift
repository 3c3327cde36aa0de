import Foundation
import TestSupport
import XCTest

/// Examples/SkyStats, the recipe for a program on the Engine: its own operator and its own
/// driver-and-executor binary, run on local[N] and on a cluster of its own processes. The suite
/// builds the example's sources as the `SkyStatsExample` target (building the example package
/// apart compiles SwiftNIO a second time; `scripts/example-skystats` does that).
final class ExampleTests: XCTestCase {
    private var processes: [Process] = []

    override func tearDown() {
        for process in processes { TestSupport.stop(process) }
        super.tearDown()
    }

    private var binary: String {
        TestSupport.sextantBinary.deletingLastPathComponent().appendingPathComponent("SkyStatsExample").path
    }

    /// The table's rows: file -> (sky level, noise, executor).
    private func rows(_ output: String) -> [String: (sky: String, noise: String, executor: String)] {
        var rows: [String: (String, String, String)] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("frame-") {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 6 { rows[fields[0]] = (fields[2], fields[3], fields[5]) }
        }
        return rows
    }

    func testSkyStatsRunsLocallyAndOnItsOwnCluster() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-example")
        let local = try TestSupport.run(binary, ["--frames", "6", "--conf", "sextant.local.slots=2"])
        XCTAssertEqual(local.status, 0, local.stdout + local.stderr)
        let localRows = rows(local.stdout)
        XCTAssertEqual(localRows.count, 6, local.stdout)
        XCTAssertEqual(Set(localRows.values.map(\.executor)), ["local"])

        let port = ClusterHarness.freePort()
        let master = "sextant://127.0.0.1:\(port)"
        processes.append(try Sextant.startProgram(binary, ["master", "--port", "\(port)"],
                                                  logTo: dir.appendingPathComponent("master.log")))
        XCTAssertTrue(TestSupport.eventually(20) {
            ((try? String(contentsOf: dir.appendingPathComponent("master.log"), encoding: .utf8)) ?? "").contains("listening")
        })
        for name in ["e1", "e2"] {
            processes.append(try Sextant.startProgram(binary, ["executor", "--master", master, "--cores", "1"],
                                                      logTo: dir.appendingPathComponent("\(name).log")))
        }
        XCTAssertTrue(TestSupport.eventually(20) {
            let log = (try? String(contentsOf: dir.appendingPathComponent("master.log"), encoding: .utf8)) ?? ""
            return log.components(separatedBy: " registered: ").count - 1 >= 2
        }, "both executors joined")
        let remote = try TestSupport.run(binary, ["submit", "--master", master, "--frames", "6",
                                                  "--dir", dir.appendingPathComponent("frames").path])
        XCTAssertEqual(remote.status, 0, remote.stdout + remote.stderr)
        let remoteRows = rows(remote.stdout)
        XCTAssertEqual(remoteRows.keys.sorted(), localRows.keys.sorted(), remote.stdout)
        for (file, row) in remoteRows {
            XCTAssertEqual(row.sky, localRows[file]?.sky, file)
            XCTAssertEqual(row.noise, localRows[file]?.noise, file)
        }
        XCTAssertEqual(Set(remoteRows.values.map(\.executor)).count, 2, "both executors measured frames: \(remote.stdout)")
    }
}
