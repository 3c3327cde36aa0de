import Foundation
import TestSupport
import XCTest

/// The cluster's defences with real `sextant` processes: what a master refuses to start with,
/// role credentials on the wire, and the master's memory under a flood of hostile connections.
final class SecurityEndToEndTests: XCTestCase {
    private var cluster: ClusterHarness?
    private var started: [Process] = []

    override func tearDown() {
        cluster?.shutDown()
        for process in started { TestSupport.stop(process) }
    }

    func testAMasterRefusesToListenBeyondLoopbackWithoutAGoodSecret() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-insecure")
        let port = ClusterHarness.freePort()
        let master = ["master", "--host", "0.0.0.0", "--port", "\(port)", "--history-dir", dir.path]
        let open = try Sextant.run(master, environment: ["SEXTANT_AUTH_SECRET": ""])
        XCTAssertEqual(open.status, 2, open.stderr)
        XCTAssertTrue(open.stderr.contains("refusing to listen on 0.0.0.0:\(port) without authentication"), open.stderr)

        let onArgv = try Sextant.run(master + ["--conf", "sextant.authenticate.secret=a-long-enough-secret-on-argv"],
                                     environment: ["SEXTANT_AUTH_SECRET": ""])
        XCTAssertNotEqual(onArgv.status, 0)
        XCTAssertTrue(onArgv.stderr.contains("sextant.authenticate.secret is not read (a secret on a command line shows in ps)"),
                      onArgv.stderr)
        let short = try Sextant.run(master, environment: ["SEXTANT_AUTH_SECRET": "hunter2"])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("SEXTANT_AUTH_SECRET is shorter than 16 bytes"), short.stderr)
        // The web UI, beyond loopback without a token, is not served; the master (on loopback) still runs.
        let log = dir.appendingPathComponent("master.log")
        let loopback = try Sextant.start(["master", "--host", "127.0.0.1", "--port", "\(port)", "--history-dir", dir.path,
                                          "--conf", "sextant.ui.host=0.0.0.0", "--conf", "sextant.ui.port=0"],
                                         logTo: log, environment: ["SEXTANT_AUTH_SECRET": ""])
        started.append(loopback)
        try waitFor(log, "listening")
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(text.contains("the web UI would listen on 0.0.0.0 without a token"), text)
        XCTAssertTrue(text.contains("warning: sextant.executor.allowedRoots is not set"), text)
    }

    func testAnExecutorsCredentialRunsTasksButCannotSubmit() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-credentials")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 2, into: frames)
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        let credential = dir.appendingPathComponent("executor.credential")
        let issued = try Sextant.run(["credential", "executor", "--out", credential.path], environment: cluster.environment)
        XCTAssertEqual(issued.status, 0, issued.stderr)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: credential.path)[.posixPermissions] as? Int, 0o600)
        let text = try String(contentsOf: credential, encoding: .utf8)
        XCTAssertFalse(text.contains(cluster.environment["SEXTANT_AUTH_SECRET"]!), "the credential is not the secret")

        let withCredential = ["SEXTANT_AUTH_SECRET": ""]
        let conf = ["--conf", "sextant.authenticate.secretFile=\(credential.path)"]
        started.append(try Sextant.start(["executor", "--master", cluster.masterURL, "--cores", "1", "--host-name", "scoped"]
                                         + cluster.conf.flatMap { ["--conf", $0] } + conf,
                                         logTo: dir.appendingPathComponent("scoped.log"), environment: withCredential))
        try cluster.waitForExecutors(1)
        let run = try cluster.client(["run", frames.path, "--out", dir.appendingPathComponent("out").path])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr + cluster.log("master"))

        let submit = try Sextant.run(["status", "--master", cluster.masterURL] + conf, environment: withCredential)
        XCTAssertNotEqual(submit.status, 0)
        XCTAssertTrue(submit.stderr.contains("holds only the executor credential; it cannot connect as client"), submit.stderr)
    }

    /// 1,000 connections (from 16 loopback addresses, under the per-address cap) each holding a
    /// 4,095-byte piece of a maximal pre-authentication frame: the master's memory stays bounded
    /// and it still answers a real client. The figure goes in docs/SECURITY.md.
    func testTheMastersMemoryIsBoundedUnderAFloodOfHostileConnections() throws {
        let count = Int(ProcessInfo.processInfo.environment["SEXTANT_FLOOD_CONNECTIONS"] ?? "") ?? 1000
        let dir = try TestSupport.makeTemporaryDirectory("e2e-flood")
        let cluster = ClusterHarness(directory: dir, conf: ["sextant.network.handshakeTimeout=60s", "sextant.ui.enabled=false"])
        self.cluster = cluster
        try cluster.startMaster()
        let pid = try XCTUnwrap(cluster.master?.processIdentifier)
        let before = Self.residentBytes(of: pid)
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        let piece = withUnsafeBytes(of: UInt32(4096).bigEndian, Array.init) + Array("SXTN".utf8) + [0, 2, 2]
            + [UInt8](repeating: UInt8(ascii: "{"), count: 4095 - 7)
        for index in 0..<count {
            guard let fd = Self.connect(port: cluster.port, from: "127.0.0.\(2 + index / 63)") else { continue }
            _ = piece.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            sockets.append(fd)
        }
        Thread.sleep(forTimeInterval: 2)
        let during = Self.residentBytes(of: pid)
        let status = try cluster.client(["status"])
        print("flood: master RSS \(before >> 20) MiB before, \(during >> 20) MiB with \(sockets.count) hostile connections "
              + "(+\((during - before) >> 10) KiB, \((during - before) / max(1, sockets.count)) bytes each)")
        XCTAssertEqual(sockets.count, count)
        XCTAssertEqual(status.status, 0, "a real client is still served: " + status.stderr + cluster.log("master"))
        XCTAssertLessThan(during - before, 64 << 20, "at most a few tens of KiB per hostile connection")
        XCTAssertTrue(cluster.master?.isRunning ?? false)
    }

    private func waitFor(_ log: URL, _ text: String, timeout: TimeInterval = 20) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if (try? String(contentsOf: log, encoding: .utf8))?.contains(text) == true { return }
            usleep(50_000)
        }
        XCTFail("\(log.lastPathComponent) never said '\(text)'")
    }

    static func connect(port: Int, from source: String) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, size) }
        }
        guard bound == 0, connected == 0 else { close(fd); return nil }
        return fd
    }

    static func residentBytes(of pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}
