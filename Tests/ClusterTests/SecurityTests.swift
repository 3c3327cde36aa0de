import Engine
import Foundation
import Hashing
import XCTest
@testable import Cluster

/// Every bad peer is turned away or cut off with a log line, and the master keeps serving
/// the executors connected before and after.
final class SecurityTests: XCTestCase {
    private let secret = "correct horse battery staple"
    private var fixture: ClusterFixture!

    override func setUpWithError() throws {
        var network = NetworkSettings.fast(secret: secret)
        network.handshakeTimeout = 1
        fixture = ClusterFixture(network: network)
        try fixture.startMaster()
    }

    override func tearDown() {
        fixture.tearDown()
    }

    private var port: Int { fixture.master.port! }

    func testBadPeersAreRefusedWhileLegitimateExecutorsKeepWorking() throws {
        let before = fixture.startExecutor(cores: 1)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let beforeID = before.executorID

        try assertRefused(secret: "wrong secret", contains: "authentication failed: wrong secret")
        try assertRefused(secret: .some(nil), contains: "authentication required")
        try assertRefused(buildID: "other-build", contains: "master is build \(ClusterFixture.buildID), client is build other-build")
        try wrongProtocolVersionIsRefused()
        try replayedHandshakeIsRefused()
        assertClosed(RawPeer.frame(type: 1, body: []).prefix(4) + Array("hello world".utf8), logs: "bad magic")
        assertClosed(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), logs: "exceeds sextant.network.maxFrameBytes")
        assertClosed([0x7f, 0xff, 0xff, 0xff], logs: "frame length 2147483647 exceeds sextant.network.maxFrameBytes (1048576)")
        assertClosed([0, 0, 0, 3] + Array("SXT".utf8), logs: "shorter than the 7-byte header")
        assertClosed(RawPeer.frame(type: 200, body: RawPeer.json([:])), logs: "unknown message type 200")
        assertClosed(RawPeer.frame(type: 10, body: RawPeer.json(["host": "x", "cores": 1, "localPaths": []])),
                     logs: "expected clientHello first, got register")
        assertClosed(RawPeer.frame(type: 2, body: Array("{not json".utf8)), logs: "cannot decode the body of clientHello")
        assertClosed(Array(RawPeer.frame(type: 2, body: RawPeer.json(["x": 1])).prefix(12)), halfClose: true,
                     logs: "connection ended inside a frame")
        // A peer that connects and says nothing is cut off after sextant.network.handshakeTimeout.
        let idle = try RawPeer(port: port)
        XCTAssertNotNil(idle.readFrame(), "the master opens with its hello")
        XCTAssertTrue(idle.waitForClose(timeout: 4))
        XCTAssertTrue(fixture.logs.contains("no handshake within 1.0 s"))

        // An executor without the secret cannot register, and stops for good.
        var keyless = fixture.network
        keyless.secret = nil
        let intruder = fixture.startExecutor(network: keyless)
        XCTAssertThrowsError(try intruder.wait()) { error in
            XCTAssertTrue("\(error)".contains("authentication required"), "\(error)")
        }

        // An executor from another build stops for good too, told both build ids.
        let stranger = fixture.startExecutor(buildID: "build-from-last-week")
        XCTAssertThrowsError(try stranger.wait()) { error in
            XCTAssertEqual(error as? ClusterError, .refused("build id mismatch: master is build \(ClusterFixture.buildID), "
                + "executor is build build-from-last-week; run the same sextant binary everywhere"))
        }

        let after = fixture.startExecutor(cores: 1)
        XCTAssertTrue(fixture.waitForExecutors(2))
        XCTAssertEqual(before.executorID, beforeID, "the first executor never had to reconnect")
        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: TestDriver.tasks(40))
        driver.start()
        XCTAssertTrue(driver.waitUntilDone(timeout: 10))
        let executorsUsed = Set(driver.snapshot { $0.results.map(\.executor) })
        XCTAssertEqual(executorsUsed, [beforeID!, after.executorID!])
        driver.backend.stop()
    }

    func testConnectionsBeyondTheCapAreClosed() throws {
        fixture.tearDown()
        var network = NetworkSettings.fast(secret: secret)
        network.maxConnections = 3
        fixture = ClusterFixture(network: network)
        try fixture.startMaster()
        fixture.startExecutor()
        XCTAssertTrue(fixture.waitForExecutors(1))
        let held = try (0..<2).map { _ in try RawPeer(port: port) }
        for peer in held { XCTAssertNotNil(peer.readFrame(), "within the cap: greeted") }
        let extra = try RawPeer(port: port)
        XCTAssertTrue(extra.waitForClose(timeout: 2))
        XCTAssertTrue(fixture.logs.contains("3 connections open (sextant.network.maxConnections)"))
        XCTAssertEqual(fixture.master.executors.count, 1)
    }

    func testClientWithASecretRejectsAMasterThatCannotProveIt() throws {
        let impostor = RawListener()
        let done = expectation(description: "impostor done")
        Thread.detachNewThread {
            let peer = impostor.accept()
            let nonce = Data(Digest.randomBytes(32)).base64EncodedString()
            peer.write(RawPeer.frame(type: 1, body: RawPeer.json([
                "protocolVersion": Int(WireFormat.protocolVersion), "buildID": ClusterFixture.buildID, "nonce": nonce,
                "authenticationRequired": true])))
            _ = peer.readFrame()
            peer.write(RawPeer.frame(type: 3, body: RawPeer.json(["proof": Data(repeating: 7, count: 32).base64EncodedString()])))
            _ = peer.waitForClose(timeout: 2)
            done.fulfill()
        }
        var network = fixture.network
        network.secret = ClusterSecret(secret)
        XCTAssertThrowsError(try ClusterClient(master: MasterAddress(host: "127.0.0.1", port: impostor.port),
                                               buildID: ClusterFixture.buildID, network: network)) { error in
            XCTAssertEqual(error as? ClusterError, .refused("sextant://127.0.0.1:\(impostor.port) failed to prove it knows the secret"))
        }
        wait(for: [done], timeout: 5)
    }

    func testPeerWithASecretRefusesAMasterWithout() throws {
        let open = ClusterFixture(network: .fast())
        defer { open.tearDown() }
        try open.startMaster()
        XCTAssertThrowsError(try open.client(secret: .some(secret))) { error in
            XCTAssertEqual(error as? ClusterError, .refused("\(open.address) does not require authentication but "
                + "this side has a secret; refusing a master that cannot prove it knows it"))
        }
        XCTAssertNoThrow(try open.client().close(), "without secrets on either side, no authentication")
    }

    // MARK: Helpers

    private func assertRefused(secret: String?? = .none, buildID: String = ClusterFixture.buildID,
                               contains text: String, line: UInt = #line) throws {
        XCTAssertThrowsError(try fixture.client(secret: secret, buildID: buildID), line: line) { error in
            guard case .refused(let reason)? = error as? ClusterError else {
                return XCTFail("expected a refusal, got \(error)", line: line)
            }
            XCTAssertTrue(reason.contains(text), reason, line: line)
        }
        XCTAssertTrue(eventually { fixture.logs.contains(text) }, "the master logged: \(text)", line: line)
    }

    private func assertClosed(_ bytes: [UInt8], halfClose: Bool = false, logs text: String, line: UInt = #line) {
        do {
            let peer = try RawPeer(port: port)
            XCTAssertNotNil(peer.readFrame(), "greeted first", line: line)
            peer.write(bytes)
            if halfClose { peer.finishWriting() }
            XCTAssertTrue(peer.waitForClose(timeout: 3), "closed after: \(text)", line: line)
            XCTAssertTrue(eventually { fixture.logs.contains(text) }, "the master logged: \(text)", line: line)
        } catch {
            XCTFail("\(error)", line: line)
        }
    }

    private func serverHello(_ peer: RawPeer) throws -> [String: Any] {
        let frame = try XCTUnwrap(peer.readFrame())
        XCTAssertEqual(frame.type, 1)
        XCTAssertEqual(frame.version, 3)
        return RawPeer.decodeJSON(frame.body)
    }

    private func wrongProtocolVersionIsRefused() throws {
        let peer = try RawPeer(port: port)
        _ = try serverHello(peer)
        peer.write(RawPeer.frame(type: 2, version: 9, body: RawPeer.json([
            "protocolVersion": 9, "buildID": "future", "role": "executor",
            "nonce": Data(Digest.randomBytes(32)).base64EncodedString()])))
        let refusal = try XCTUnwrap(peer.readFrame())
        XCTAssertEqual(refusal.type, 4)
        let reason = RawPeer.decodeJSON(refusal.body)["reason"] as? String ?? ""
        XCTAssertEqual(reason, "protocol version mismatch: master speaks 3 (build \(ClusterFixture.buildID)), executor speaks 9 (build future)")
        XCTAssertTrue(peer.waitForClose())
        XCTAssertTrue(eventually { fixture.logs.contains(reason) })
    }

    /// A transcript that once authenticated is worthless on a new connection: the master's nonce is new.
    private func replayedHandshakeIsRefused() throws {
        let first = try RawPeer(port: port)
        let hello = try serverHello(first)
        let serverNonce = try XCTUnwrap(Data(base64Encoded: hello["nonce"] as? String ?? ""))
        XCTAssertEqual(serverNonce.count, 32)
        XCTAssertEqual(hello["authenticationRequired"] as? Bool, true)
        let clientNonce = Data(Digest.randomBytes(32))
        let roleKey = RawSession.roleKey(secret: secret, role: "client")
        let proof = Digest.hmacSHA256(key: roleKey, data: serverNonce + Data("client".utf8) + clientNonce)
        let transcript = RawPeer.frame(type: 2, body: RawPeer.json([
            "protocolVersion": Int(WireFormat.protocolVersion), "buildID": ClusterFixture.buildID, "role": "client",
            "nonce": clientNonce.base64EncodedString(), "proof": Data(proof).base64EncodedString()]))
        first.write(transcript)
        let welcome = try XCTUnwrap(first.readFrame())
        XCTAssertEqual(welcome.type, 3, "the spec's handshake, computed independently, is accepted")
        let masterProof = Data(base64Encoded: RawPeer.decodeJSON(welcome.body)["proof"] as? String ?? "")
        XCTAssertEqual(masterProof.map(Array.init),
                       Digest.hmacSHA256(key: roleKey, data: clientNonce + Data("master".utf8) + serverNonce),
                       "the master proves it knows the secret")

        let replay = try RawPeer(port: port)
        let second = try serverHello(replay)
        XCTAssertNotEqual(second["nonce"] as? String, hello["nonce"] as? String, "fresh nonce per connection")
        replay.write(transcript)
        let refusal = try XCTUnwrap(replay.readFrame())
        XCTAssertEqual(refusal.type, 4)
        XCTAssertEqual(RawPeer.decodeJSON(refusal.body)["reason"] as? String,
                       "authentication failed: wrong secret (or a credential for another role than client)")
        XCTAssertTrue(replay.waitForClose())
    }
}
