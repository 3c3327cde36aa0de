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

    func testSecretComesFromFileThenEnvironmentThenValue() throws {
        let dir = try TestSupport.makeTemporaryDirectory("sextant-secret")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("secret")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        let env = [ClusterSecret.environmentVariable: "from-env"]

        XCTAssertEqual(try ClusterSecret.resolve(file: file.path, value: "v", environment: env)?.bytes, Array("from-file".utf8))
        XCTAssertEqual(try ClusterSecret.resolve(file: nil, value: "v", environment: env)?.bytes, Array("from-env".utf8))
        XCTAssertEqual(try ClusterSecret.resolve(file: nil, value: "v", environment: [:])?.bytes, Array("v".utf8))
        XCTAssertNil(try ClusterSecret.resolve(file: nil, value: nil, environment: [:]))
        XCTAssertEqual("\(ClusterSecret("hunter2"))", "ClusterSecret(7 bytes)", "never printed")

        let missing = dir.appendingPathComponent("absent").path
        XCTAssertThrowsError(try ClusterSecret.resolve(file: missing, value: nil, environment: [:])) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot read the secret file \(missing)"), "\(error)")
        }
        try "\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ClusterSecret.resolve(file: file.path, value: nil, environment: [:])) { error in
            XCTAssertEqual(error as? ClusterError, .secretUnreadable(file.path, reason: "the file is empty"))
        }
    }

    func testDefaultsAreTheDocumentedOnes() {
        let network = NetworkSettings()
        XCTAssertEqual(network.maxFrameBytes, 16 * 1024 * 1024)
        XCTAssertEqual(network.maxConnections, 1024)
        XCTAssertEqual(network.handshakeTimeout, 10)
        XCTAssertEqual(network.heartbeatInterval, 3)
        XCTAssertEqual(network.heartbeatTimeout, 30)
        XCTAssertNil(network.secret)
        XCTAssertEqual(MasterSettings().port, 7077)
        XCTAssertEqual(MasterSettings().host, "0.0.0.0")
    }
}
