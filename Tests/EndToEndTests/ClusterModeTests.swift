import Foundation
import TestSupport
import XCTest

/// Master and executors as separate processes on loopback.
final class ClusterModeTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    func testThreeExecutorsWriteTheSameCatalogsAsLocalMode() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-cluster")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 9, into: frames)
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        for name in ["e1", "e2", "e3"] { try cluster.startExecutor(name) }
        try cluster.waitForExecutors(3)

        let local = try Sextant.run(["run", frames.path, "--out", dir.appendingPathComponent("local").path, "--master", "local[2]"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let remote = try cluster.client(["run", frames.path, "--out", dir.appendingPathComponent("cluster").path])
        XCTAssertEqual(remote.status, 0, remote.stdout + remote.stderr + cluster.log("master"))

        let manifest = try String(contentsOf: dir.appendingPathComponent("cluster/_manifest.jsonl"), encoding: .utf8)
        let executorsUsed = Set(manifest.split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["executor"] as? String
        })
        XCTAssertGreaterThan(executorsUsed.count, 1, "work spread over executors: \(executorsUsed)")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("local").path)
        where name.hasSuffix(".cat.fits") {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("local/\(name)")),
                           try Data(contentsOf: dir.appendingPathComponent("cluster/\(name)")), name)
        }

        let status = try cluster.client(["status"])
        XCTAssertTrue(status.stdout.contains("succeeded"), status.stdout)
    }

    func testKillingAnExecutorMidJobLosesNothing() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-kill")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 16, into: frames)
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        for name in ["e1", "e2"] { try cluster.startExecutor(name) }
        try cluster.waitForExecutors(2)

        let out = dir.appendingPathComponent("out")
        let submit = try cluster.client(["submit", frames.path, "--out", out.path])
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let jobID = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try waitForCatalogs(in: out, atLeast: 2)
        cluster.kill("e1")

        let wait = try waitForJob(cluster, jobID)
        XCTAssertTrue(wait.contains("succeeded"), wait + cluster.log("master"))
        let catalogs = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".cat.fits") }
        XCTAssertEqual(catalogs.count, 16, "every input has exactly one catalog")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }, [])
        XCTAssertTrue(cluster.log("master").contains("lost"), cluster.log("master"))
    }

    func testWrongSecretAndGarbageAreRefusedAndTheMasterKeepsServing() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-security")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 2, into: frames)
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        try cluster.startExecutor("intruder", environment: ["SEXTANT_AUTH_SECRET": "wrong-secret-for-this-cluster"])
        try cluster.waitForLog("intruder", containing: "refused")

        // Garbage and an oversized length prefix straight at the port.
        for payload in [Data("GET / HTTP/1.1\r\n\r\n".utf8), Data([0xff, 0xff, 0xff, 0xff, 0, 1, 2])] {
            let nc = try TestSupport.run("/usr/bin/python3", ["-c", """
                import socket, sys
                s = socket.create_connection(('127.0.0.1', \(cluster.port)), timeout=5)
                s.sendall(bytes.fromhex(sys.argv[1]))
                try:
                    print(len(s.recv(100)))
                except Exception as e:
                    print('closed', e)
                """, payload.map { String(format: "%02x", $0) }.joined()])
            XCTAssertEqual(nc.status, 0, nc.stderr)
        }

        try cluster.startExecutor("e1")
        try cluster.waitForExecutors(1)
        let run = try cluster.client(["run", frames.path, "--out", dir.appendingPathComponent("out").path])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(cluster.master?.isRunning ?? false)
        let intruder = cluster.log("intruder")
        XCTAssertTrue(intruder.lowercased().contains("secret") || intruder.lowercased().contains("authenticat"), intruder)
    }

    private func waitForCatalogs(in directory: URL, atLeast count: Int, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let done = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?
                .filter { $0.hasSuffix(".cat.fits") }.count ?? 0
            if done >= count { return }
            usleep(10_000)
        }
        XCTFail("no catalogs appeared in \(directory.path)")
    }

    private func waitForJob(_ cluster: ClusterHarness, _ jobID: String, timeout: TimeInterval = 120) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let status = try cluster.client(["status", jobID])
            if status.stdout.contains("succeeded") || status.stdout.contains(" failed ") { return status.stdout }
            usleep(200_000)
        }
        return "timed out"
    }
}
