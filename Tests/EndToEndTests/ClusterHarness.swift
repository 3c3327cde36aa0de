import Foundation
import TestSupport
import XCTest

/// A master and executors as separate `sextant` processes, optionally each inside its own
/// network namespace. Everything it starts is killed by `shutDown()`.
final class ClusterHarness {
    let directory: URL
    let port: Int
    let masterHost: String
    let environment: [String: String]
    /// Extra `--conf` pairs every process gets (short heartbeats for tests).
    let conf: [String]
    private(set) var master: Process?
    private(set) var executors: [String: Process] = [:]

    init(directory: URL, masterHost: String = "127.0.0.1", port: Int = ClusterHarness.freePort(),
         secret: String = "test-secret-\(UUID().uuidString.prefix(8))",
         conf: [String] = ["sextant.executor.heartbeatInterval=0.5s", "sextant.network.timeout=4s", "sextant.ui.port=0"]) {
        self.directory = directory
        self.masterHost = masterHost
        self.port = port
        self.environment = ["SEXTANT_AUTH_SECRET": secret]
        self.conf = conf
    }

    var masterURL: String { "sextant://\(masterHost):\(port)" }
    private var confArguments: [String] { conf.flatMap { ["--conf", $0] } }

    func startMaster(namespace: String? = nil, environment extra: [String: String] = [:]) throws {
        master = try launch(["master", "--host", masterHost, "--port", "\(port)",
                             "--history-dir", directory.appendingPathComponent("history").path] + confArguments,
                            name: "master", namespace: namespace, environment: extra)
        try waitForLog("master", containing: "listening")
    }

    func startExecutor(_ name: String, cores: Int = 1, namespace: String? = nil,
                       environment extra: [String: String] = [:], extraConf: [String] = []) throws {
        executors[name] = try launch(["executor", "--master", masterURL, "--cores", "\(cores)", "--host-name", name]
                                     + confArguments + extraConf.flatMap { ["--conf", $0] },
                                     name: name, namespace: namespace, environment: extra)
    }

    /// Blocks until the master's status shows `count` executors (by their registration log lines).
    func waitForExecutors(_ count: Int, timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log("master").components(separatedBy: " registered: ").count - 1 >= count { return }
            usleep(50_000)
        }
        XCTFail("only some executors registered:\n\(log("master"))")
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    func waitForLog(_ name: String, containing text: String, timeout: TimeInterval = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log(name).contains(text) { return }
            usleep(50_000)
        }
        XCTFail("\(name).log never said '\(text)':\n\(log(name))")
    }

    /// `sextant ARGS --master URL` with this cluster's secret, waiting for it to end.
    func client(_ arguments: [String], namespace: String? = nil) throws -> TestSupport.ProcessOutput {
        let command = wrap(["--"] + [Sextant.binary] + arguments + ["--master", masterURL] + confArguments, namespace: namespace)
        return try TestSupport.run(command[0], Array(command.dropFirst()), environment: environment)
    }

    func kill(_ name: String, signal: Int32 = SIGKILL) {
        guard let process = executors[name] ?? (name == "master" ? master : nil) else { return }
        Foundation.kill(process.processIdentifier, signal)
        TestSupport.awaitExit(process)
    }

    func shutDown() {
        for process in Array(executors.values) + [master].compactMap({ $0 }) where process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            TestSupport.awaitExit(process)
        }
    }

    private func launch(_ arguments: [String], name: String, namespace: String?,
                        environment extra: [String: String] = [:]) throws -> Process {
        let command = wrap(["--", Sextant.binary] + arguments, namespace: namespace)
        return try Sextant.startProgram(command[0], Array(command.dropFirst()),
                                        logTo: directory.appendingPathComponent("\(name).log"),
                                        environment: environment.merging(extra) { _, new in new })
    }

    /// `ip netns exec NS cmd...` when a namespace is given, else the command as is.
    private func wrap(_ command: [String], namespace: String?) -> [String] {
        let plain = Array(command.drop { $0 == "--" })
        guard let namespace else { return plain }
        return ["/usr/sbin/ip", "netns", "exec", namespace] + plain
    }

    /// A free TCP port on loopback, from the kernel.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
