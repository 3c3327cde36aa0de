import Foundation
import TestSupport
import XCTest
@testable import Cluster

final class SettingsTests: XCTestCase {
    func testMasterAddressForms() throws {
        XCTAssertEqual(try MasterAddress(parsing: "sextant://node1:7078"), MasterAddress(host: "node1", port: 7078))
        XCTAssertEqual(try MasterAddress(parsing: "node1:7078"), MasterAddress(host: "node1", port: 7078))
        XCTAssertEqual(try MasterAddress(parsing: "node1"), MasterAddress(host: "node1", port: 7077))
        XCTAssertEqual(try MasterAddress(parsing: "sextant://[::1]:9000/"), MasterAddress(host: "::1", port: 9000))
        XCTAssertEqual(MasterAddress(host: "::1", port: 9000).description, "sextant://[::1]:9000")
        XCTAssertEqual(MasterAddress(host: "node1").description, "sextant://node1:7077")
        for (text, reason) in [("spark://node1:7077", "the scheme must be sextant://"),
                               ("node1:http", "the port is not a number"),
                               ("node1:70770", "the port must be 1-65535"),
                               ("sextant://:7077", "no host"),
                               ("[::1:7077", "unclosed [ in an IPv6 address")] {
            XCTAssertThrowsError(try MasterAddress(parsing: text)) { error in
                XCTAssertEqual(error as? ClusterError, .invalidAddress(text, reason: reason))
            }
        }
    }

    func testSecretComesFromAFileOrTheEnvironmentNeverTheCommandLine() throws {
        let dir = try TestSupport.makeTemporaryDirectory("sextant-secret")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("secret")
        try "from-file-0123456789\n".write(to: file, atomically: true, encoding: .utf8)
        let env = [ClusterSecret.environmentVariable: "from-env-0123456789"]

        XCTAssertEqual(try ClusterSecret.resolve(file: file.path, environment: env)?.bytes, Array("from-file-0123456789".utf8))
        XCTAssertEqual(try ClusterSecret.resolve(file: nil, environment: env)?.bytes, Array("from-env-0123456789".utf8))
        XCTAssertNil(try ClusterSecret.resolve(file: nil, value: nil, environment: [:]))
        XCTAssertEqual("\(ClusterSecret("hunter2"))", "ClusterSecret(7 bytes)", "never printed")
        XCTAssertThrowsError(try ClusterSecret.resolve(file: file.path, value: "on-argv-0123456789", environment: env)) { error in
            XCTAssertEqual(error as? ClusterError, .secretOnCommandLine, "sextant.authenticate.secret is refused, not ignored")
        }
        XCTAssertThrowsError(try ClusterSecret.resolve(file: nil, environment: [ClusterSecret.environmentVariable: "short"])) { error in
            XCTAssertEqual(error as? ClusterError, .secretTooShort(ClusterSecret.environmentVariable))
            XCTAssertTrue("\(error)".contains("shorter than 16 bytes"), "\(error)")
        }

        let missing = dir.appendingPathComponent("absent").path
        XCTAssertThrowsError(try ClusterSecret.resolve(file: missing, value: nil, environment: [:])) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot read the secret file \(missing)"), "\(error)")
        }
        try "\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ClusterSecret.resolve(file: file.path, value: nil, environment: [:])) { error in
            XCTAssertEqual(error as? ClusterError, .secretUnreadable(file.path, reason: "the file is empty"))
        }
    }

    func testRoleCredentialsAreDerivedFromTheSecretAndScopedToTheirRole() throws {
        let secret = ClusterSecret("the cluster secret, 32 bytes long")
        let executorText = try XCTUnwrap(secret.credential(for: .executor))
        XCTAssertTrue(executorText.hasPrefix("sextant-credential-v1:executor:"))
        XCTAssertFalse(executorText.contains("the cluster secret"))
        let executor = ClusterSecret(executorText)
        XCTAssertEqual(executor.scope, .executor)
        XCTAssertEqual("\(executor)", "ClusterSecret(executor credential)")
        XCTAssertEqual(executor.key(for: .executor), secret.key(for: .executor), "the master derives the same key")
        XCTAssertNil(executor.key(for: .client), "an executor's credential cannot act as a client")
        XCTAssertNil(executor.credential(for: .client), "nor issue credentials")
        XCTAssertNil(ClusterSecret(try XCTUnwrap(secret.credential(for: .client))).key(for: .executor))
        XCTAssertNotEqual(secret.key(for: .executor), secret.key(for: .client))
        XCTAssertNotEqual(secret.key(for: .client), secret.key(for: .client, principal: "user:alice"),
                          "per-user keys (a principal) differ from the role's shared key")
    }

    func testAMasterBeyondLoopbackNeedsTheClusterSecret() throws {
        XCTAssertNoThrow(try MasterServer.checkAuthentication(MasterSettings(host: "127.0.0.1")))
        XCTAssertNoThrow(try MasterServer.checkAuthentication(MasterSettings(host: "::1")))
        XCTAssertThrowsError(try MasterServer.checkAuthentication(MasterSettings(host: "0.0.0.0"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("refusing to listen on 0.0.0.0:7077 without authentication"), "\(error)")
        }
        let secret = ClusterSecret("the cluster secret, 32 bytes long")
        XCTAssertNoThrow(try MasterServer.checkAuthentication(MasterSettings(network: NetworkSettings(secret: secret))))
        let executorOnly = ClusterSecret(secret.credential(for: .executor)!)
        XCTAssertThrowsError(try MasterServer.checkAuthentication(MasterSettings(network: NetworkSettings(secret: executorOnly))))
    }

    func testDefaultsAreTheDocumentedOnes() {
        let network = NetworkSettings()
        XCTAssertEqual(network.maxFrameBytes, 16 * 1024 * 1024)
        XCTAssertEqual(network.maxConnections, 1024)
        XCTAssertEqual(network.maxConnectionsPerAddress, 64)
        XCTAssertEqual(network.idleTimeout, 300)
        XCTAssertEqual(network.handshakeTimeout, 10)
        XCTAssertEqual(network.heartbeatInterval, 3)
        XCTAssertEqual(network.heartbeatTimeout, 30)
        XCTAssertNil(network.secret)
        XCTAssertEqual(MasterSettings().port, 7077)
        XCTAssertEqual(MasterSettings().host, "0.0.0.0")
    }
}

final class ConfigurationTests: XCTestCase {
    func testSettingsFromConfigurationKeys() throws {
        let conf = [
            "sextant.master.host": "10.0.0.5",
            "sextant.master.port": "7100",
            "sextant.master.historyDir": "/var/lib/sextant/history",
            "sextant.network.maxFrameBytes": "4m",
            "sextant.network.maxConnections": "200",
            "sextant.network.handshakeTimeout": "1500ms",
            "sextant.executor.heartbeatInterval": "2s",
            "sextant.network.timeout": "1m",
            "sextant.network.maxConnectionsPerAddress": "8",
            "sextant.network.idleTimeout": "2m",
            "sextant.executor.cores": "6",
            "sextant.executor.localPaths": "/scratch, /tmp/sextant",
        ]
        let master = try MasterSettings(conf: conf, environment: [ClusterSecret.environmentVariable: "from-env-0123456789"])
        XCTAssertEqual(master.host, "10.0.0.5")
        XCTAssertEqual(master.port, 7100)
        XCTAssertEqual(master.historyDirectory?.path, "/var/lib/sextant/history")
        XCTAssertEqual(master.network.maxFrameBytes, 4 * 1024 * 1024)
        XCTAssertEqual(master.network.maxConnections, 200)
        XCTAssertEqual(master.network.handshakeTimeout, 1.5, accuracy: 1e-9)
        XCTAssertEqual(master.network.heartbeatInterval, 2)
        XCTAssertEqual(master.network.heartbeatTimeout, 60)
        XCTAssertEqual(master.network.maxConnectionsPerAddress, 8)
        XCTAssertEqual(master.network.idleTimeout, 120)
        XCTAssertEqual(master.network.secret?.bytes, Array("from-env-0123456789".utf8))

        let executor = try ExecutorSettings(master: MasterAddress(host: "m"), conf: conf,
                                            environment: [ClusterSecret.environmentVariable: "from-env-0123456789"])
        XCTAssertEqual(executor.cores, 6)
        XCTAssertEqual(executor.localPaths, ["/scratch", "/tmp/sextant"])
        XCTAssertEqual(executor.network.secret?.bytes, Array("from-env-0123456789".utf8))

        let defaults = try MasterSettings(conf: [:], environment: [:])
        XCTAssertEqual(defaults.port, 7077)
        XCTAssertNil(defaults.historyDirectory)
        XCTAssertNil(defaults.network.secret)
    }

    /// Cluster reads values with the same parser as every other module (it once refused `5min`).
    func testClusterTakesTheSharedValueSyntax() throws {
        let settings = try MasterSettings(conf: ["sextant.network.timeout": "5min", "sextant.network.handshakeTimeout": "1500ms",
                                                 "sextant.network.maxFrameBytes": "16MiB"], environment: [:])
        XCTAssertEqual(settings.network.heartbeatTimeout, 300)
        XCTAssertEqual(settings.network.handshakeTimeout, 1.5)
        XCTAssertEqual(settings.network.maxFrameBytes, 16 << 20)
    }

    func testBadValuesNameTheKey() {
        let cases: [(String, String, String)] = [
            ("sextant.network.timeout", "soon", "configuration key sextant.network.timeout: 'soon' is not a positive duration like 500ms, 10s, 5min or 2h"),
            ("sextant.network.timeout", "0s", "configuration key sextant.network.timeout: '0s' is not a positive duration like 500ms, 10s, 5min or 2h"),
            ("sextant.network.maxFrameBytes", "16 parsecs", "configuration key sextant.network.maxFrameBytes: '16 parsecs' is not a size like 512k, 64m or 2g from 64 to 2147483647"),
            ("sextant.network.maxFrameBytes", "4g", "configuration key sextant.network.maxFrameBytes: '4g' is not a size like 512k, 64m or 2g from 64 to 2147483647"),
            ("sextant.network.maxConnections", "0", "configuration key sextant.network.maxConnections: '0' is not a whole number of at least 1"),
            ("sextant.master.port", "99999", "configuration key sextant.master.port: '99999' is not a whole number from 0 to 65535"),
            ("sextant.executor.heartbeatInterval", "45s", "configuration key sextant.network.timeout: '30.0s' is not more than sextant.executor.heartbeatInterval (45.0s)"),
        ]
        for (key, value, message) in cases {
            XCTAssertThrowsError(try MasterSettings(conf: [key: value], environment: [:])) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }
}
