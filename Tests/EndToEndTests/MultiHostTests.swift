import Foundation
import TestSupport
import XCTest

/// A master and three executors on four "hosts" (network namespaces), so traffic crosses
/// real interfaces: one executor is SIGKILLed and another's link is cut and restored mid-job.
final class MultiHostTests: XCTestCase {
    func testJobSurvivesAKilledExecutorAndACutLink() throws {
        guard NetworkNamespaces.available else {
            throw XCTSkip("network namespaces need root and iproute2 (ip netns)")
        }
        NetworkNamespaces.removeStale()
        let net = NetworkNamespaces()
        defer { net.tearDown() }
        try net.setUp(hosts: 4)

        let dir = try TestSupport.makeTemporaryDirectory("e2e-netns")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 30, into: frames)
        let cluster = ClusterHarness(directory: dir, masterHost: net.address(1), port: 7077,
                                     conf: ["sextant.executor.heartbeatInterval=0.5s", "sextant.network.timeout=3s", "sextant.ui.port=0"])
        defer { cluster.shutDown() }
        try cluster.startMaster(namespace: net.namespace(1))
        for host in 2...4 { try cluster.startExecutor("e\(host)", namespace: net.namespace(host)) }
        try cluster.waitForExecutors(3)

        // Where the kernel has netem, the third executor's link also gets latency and loss.
        let netem = (try? TestSupport.run("/usr/sbin/tc", ["qdisc", "add", "dev", net.link(4), "root", "netem",
                                                          "delay", "30ms", "loss", "2%"]))?.status == 0
        print(netem ? "netem: 30 ms delay and 2 % loss on e4's link" : "netem: not available in this kernel; link faults only")

        let out = dir.appendingPathComponent("out")
        let submit = try cluster.client(["submit", frames.path, "--out", out.path], namespace: net.namespace(1))
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let jobID = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        try waitForCatalogs(in: out, atLeast: 3)
        cluster.kill("e2")
        try net.setLink(3, up: false)
        try cluster.waitForLog("master", containing: "e3", timeout: 30)
        // Keep the link down past the heartbeat timeout so the master declares e3 lost.
        Thread.sleep(forTimeInterval: 4)
        try net.setLink(3, up: true)

        var status = ""
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            status = try cluster.client(["status", jobID], namespace: net.namespace(1)).stdout
            if status.contains("succeeded") || status.contains(" failed ") { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        XCTAssertTrue(status.contains("succeeded"), status + cluster.log("master"))

        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertEqual(names.filter { $0.hasSuffix(".cat.fits") }.count, 30, "exactly one catalog per input")
        XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [], "no temporary files")
        let manifest = try String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
        let entries = manifest.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(entries.count, 30)
        XCTAssertTrue(entries.allSatisfy { $0["outcome"] as? String == "committed" })
        XCTAssertTrue(entries.contains { ($0["attempts"] as? Int ?? 1) > 1 }, "retried attempts show in the manifest:\n\(manifest)")
        XCTAssertTrue(cluster.log("master").contains("lost"), cluster.log("master"))
    }

    private func waitForCatalogs(in directory: URL, atLeast count: Int) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if ((try? FileManager.default.contentsOfDirectory(atPath: directory.path))?
                .filter { $0.hasSuffix(".cat.fits") }.count ?? 0) >= count { return }
            usleep(10_000)
        }
        XCTFail("no catalogs appeared")
    }
}
