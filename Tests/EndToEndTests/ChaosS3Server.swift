import Foundation
import TestSupport
import XCTest

extension ClusterHarness {
    var secret: String { environment["SEXTANT_AUTH_SECRET"] ?? "" }

    /// Every log the cluster's processes wrote, line by line.
    var allLogs: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".log") }.flatMap { name in
            ((try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
        }
    }

    /// `sextant ARGS --master URL` with this cluster's secret and `extra` in the environment.
    func client(_ arguments: [String], environment extra: [String: String]) throws -> TestSupport.ProcessOutput {
        try Sextant.run(arguments + ["--master", masterURL] + conf.flatMap { ["--conf", $0] },
                        environment: environment.merging(extra) { _, new in new })
    }
}

/// A SeaweedFS S3 server of the test's own (scripts/s3-server run DIR BASE), to kill and restart.
final class ChaosS3Server {
    let directory: URL
    let portBase: Int
    let accessKey: String
    let secretKey: String
    let bucket = "chaos"
    private var process: Process?

    init(directory: URL, portBase: Int, accessKey: String, secretKey: String) {
        self.directory = directory
        self.portBase = portBase
        self.accessKey = accessKey
        self.secretKey = secretKey
    }

    var endpoint: String { "http://127.0.0.1:\(portBase)" }
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_PROFILE": "sextant-none"]
    }

    func start() throws {
        guard (try? TestSupport.run("/usr/bin/which", ["weed"]).status) == 0 else { throw XCTSkip("SeaweedFS (weed) is not installed") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = try Sextant.startProgram("/bin/bash", [TestSupport.repoRoot.appendingPathComponent("scripts/s3-server").path,
                                                         "run", directory.path, "\(portBase)"],
                                           logTo: directory.appendingPathComponent("weed-\(Date().timeIntervalSince1970).log"),
                                           environment: ["SEXTANT_TEST_S3_ACCESS_KEY": accessKey,
                                                         "SEXTANT_TEST_S3_SECRET_KEY": secretKey])
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline {
            let made = try curl(["-X", "PUT", "\(endpoint)/\(bucket)"])
            if made == "200" || made == "409", try put(Data("x".utf8), as: ".probe") == "200" { return }
            usleep(200_000)
        }
        throw TestSupportError.commandFailed("SeaweedFS on \(endpoint) did not start")
    }

    func kill() {
        TestSupport.stop(process)
    }

    func stop() { kill() }

    @discardableResult
    func put(_ file: URL, as key: String) throws -> String {
        try curl(["-X", "PUT", "--data-binary", "@\(file.path)", "\(endpoint)/\(bucket)/\(key)"])
    }

    @discardableResult
    func put(_ data: Data, as key: String) throws -> String {
        let file = directory.appendingPathComponent(".upload-\(UUID().uuidString)")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try put(file, as: key)
    }

    /// Keys under `prefix` (empty when the server does not answer).
    func list(_ prefix: String) -> [String] {
        guard let out = try? TestSupport.run("/usr/bin/curl", signed + ["-s", "--max-time", "5",
                                             "\(endpoint)/\(bucket)?list-type=2&max-keys=1000&prefix=\(encoded(prefix))"]) else { return [] }
        return out.stdout.components(separatedBy: "<Key>").dropFirst().compactMap { $0.components(separatedBy: "</Key>").first }
    }

    func download(prefix: String, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for key in list(prefix) {
            let name = String(key.dropFirst(prefix.count))
            _ = try TestSupport.run("/usr/bin/curl", signed + ["-s", "-o", directory.appendingPathComponent(name).path,
                                                            "\(endpoint)/\(bucket)/\(key)"])
        }
    }

    /// A query value as SigV4 signs it: everything but unreserved characters percent-encoded.
    private func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")) ?? text
    }

    private var signed: [String] {
        ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "--aws-sigv4", "aws:amz:us-east-1:s3",
         "--user", "\(accessKey):\(secretKey)"]
    }

    private func curl(_ arguments: [String]) throws -> String {
        try TestSupport.run("/usr/bin/curl", signed + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"]
                            + arguments).stdout
    }
}
