import Engine
import Foundation
import Hashing
import NIOCore
import TestSupport
import XCTest
@testable import Cluster

/// The attacks on an established or half-open connection: injected and replayed frames,
/// borrowed credentials, oversized frames before authentication, one host taking every slot,
/// idle connections, and a rogue executor claiming others' work. Each is refused with a log
/// line while the cluster keeps serving.
final class FrameProtectionTests: XCTestCase {
    private let secret = "frame protection secret 0123456789"
    private var fixture: ClusterFixture!

    override func setUpWithError() throws {
        var network = NetworkSettings.fast(secret: secret)
        network.maxConnectionsPerAddress = 4
        network.idleTimeout = 0.5
        fixture = ClusterFixture(network: network)
        try fixture.startMaster()
    }

    override func tearDown() {
        fixture.tearDown()
    }

    private var port: Int { fixture.master.port! }

    /// Handshakes as `role` by the spec (the role key derived by hand); the session to talk on.
    private func authenticated(_ role: String, source: String? = nil) throws -> (RawPeer, RawSession) {
        let peer = try RawPeer(port: port, source: source)
        let hello = try XCTUnwrap(peer.readFrame())
        let serverNonce = try XCTUnwrap(FuzzTests.nonce(in: hello.body))
        let clientNonce = Data(Digest.randomBytes(32))
        let key = RawSession.roleKey(secret: secret, role: role)
        let proof = Digest.hmacSHA256(key: key, data: serverNonce + Data(role.utf8) + clientNonce)
        peer.write(RawPeer.frame(type: 2, body: RawPeer.json([
            "protocolVersion": Int(WireFormat.protocolVersion), "buildID": ClusterFixture.buildID, "role": role,
            "nonce": clientNonce.base64EncodedString(), "proof": Data(proof).base64EncodedString()])))
        XCTAssertEqual(peer.readFrame()?.type, MessageType.welcome.rawValue)
        return (peer, RawSession(roleKey: key, serverNonce: serverNonce, clientNonce: clientNonce))
    }

    private let statusRequest = RawPeer.frame(type: MessageType.status.rawValue, body: RawPeer.json([:]))

    /// The per-frame MAC hashes frames in place (HMACKey) and is the plain HMAC-SHA256 of
    /// sequence || frame, for keys shorter than, equal to and longer than SHA-256's block, and
    /// RFC 4231's test case 2.
    func testTheInPlaceFrameMACIsHMACSHA256() throws {
        let rfc = HMACKey(Array("Jefe".utf8))
        let message = Array("what do ya want for nothing?".utf8)
        XCTAssertEqual(message.withUnsafeBytes { rfc.authenticate($0) }.map { String(format: "%02x", $0) }.joined(),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        for keyLength in [0, 16, 32, 64, 65, 200] {
            let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var frame = ByteBufferAllocator().buffer(capacity: 5000)
            frame.writeBytes((0..<4999).map { UInt8(truncatingIfNeeded: $0) })
            frame.moveReaderIndex(forwardBy: 3)  // a frame that does not start its buffer
            let sequence: UInt64 = 0x0102_0304_0506_0708
            let expected = Digest.hmacSHA256(key: key, data: withUnsafeBytes(of: sequence.bigEndian, Array.init)
                                              + Array(frame.readableBytesView))
            XCTAssertEqual(FrameAuthenticator.tag(key: HMACKey(key), sequence: sequence, frame: frame), expected, "key of \(keyLength) bytes")
        }
    }

    func testEveryFrameAfterTheHandshakeCarriesAValidMAC() throws {
        var (peer, session) = try authenticated("client")
        peer.write(session.seal(statusRequest))
        let reply = try XCTUnwrap(peer.readFrame())
        XCTAssertEqual(reply.type, MessageType.statusReply.rawValue)
        XCTAssertNotNil(session.open(reply), "the master's answer carries a MAC under the session key, sequence 0")
        peer.write(session.seal(statusRequest))
        XCTAssertNotNil(peer.readFrame().flatMap { session.open($0) }, "and the next one sequence 1")

        // Injected: a well-formed frame without the MAC (what an attacker on the path can write).
        peer.write(statusRequest)
        XCTAssertTrue(peer.waitForClose(timeout: 3))
        XCTAssertTrue(eventually { fixture.logs.contains("frame 2 after the handshake failed its integrity check") },
                      fixture.logs.all.joined(separator: "\n"))
    }

    func testReplayedOrForgedFramesCloseTheConnection() throws {
        var (peer, session) = try authenticated("client")
        let sealed = session.seal(statusRequest)
        peer.write(sealed)
        XCTAssertEqual(peer.readFrame()?.type, MessageType.statusReply.rawValue)
        peer.write(sealed)  // the same bytes again: sequence 0 where 1 is due
        XCTAssertTrue(peer.waitForClose(timeout: 3), "a replayed frame is refused")

        var (second, other) = try authenticated("client")
        var forged = other.seal(statusRequest)
        forged[forged.count - 1] ^= 1  // one bit of the MAC
        second.write(forged)
        XCTAssertTrue(second.waitForClose(timeout: 3), "a frame with a wrong MAC is refused")
        // A frame from another connection's session (spliced in) fails too.
        var (third, _) = try authenticated("client")
        third.write(session.seal(statusRequest))
        XCTAssertTrue(third.waitForClose(timeout: 3), "a frame sealed for another session is refused")
        XCTAssertGreaterThanOrEqual(fixture.logs.all.filter { $0.contains("failed its integrity check") }.count, 3)
    }

    func testAnExecutorsCredentialCannotSubmitAndAClientsCannotRegister() throws {
        let cluster = ClusterSecret(secret)
        let executorCredential = ClusterSecret(try XCTUnwrap(cluster.credential(for: .executor)))
        let clientCredential = ClusterSecret(try XCTUnwrap(cluster.credential(for: .client)))

        // Our own client code will not even try...
        var network = fixture.network
        network.secret = executorCredential
        XCTAssertThrowsError(try ClusterClient(master: fixture.address, buildID: ClusterFixture.buildID, network: network)) {
            XCTAssertTrue("\($0)".contains("holds only the executor credential; it cannot connect as client"), "\($0)")
        }
        // ...and a hand-made hello claiming the client role with the executor's key is refused by the master.
        let peer = try RawPeer(port: port)
        let serverNonce = try XCTUnwrap(FuzzTests.nonce(in: try XCTUnwrap(peer.readFrame()).body))
        let clientNonce = Data(Digest.randomBytes(32))
        let proof = Handshake.clientProof(key: executorCredential.bytes, serverNonce: serverNonce, role: .client,
                                          clientNonce: clientNonce)
        peer.write(try FrameCorpus.frame(.clientHello(ClientHello(
            protocolVersion: WireFormat.protocolVersion, buildID: ClusterFixture.buildID, role: .client,
            nonce: clientNonce, proof: proof))))
        XCTAssertEqual(peer.readFrame()?.type, MessageType.refused.rawValue)
        XCTAssertTrue(eventually { fixture.logs.contains("refused client: authentication failed") })

        // A client's credential cannot register an executor; the executor's own credential can.
        var asClient = fixture.network
        asClient.secret = clientCredential
        let impostor = fixture.startExecutor(network: asClient)
        XCTAssertThrowsError(try impostor.wait()) { XCTAssertTrue("\($0)".contains("cannot connect as executor"), "\($0)") }
        var asExecutor = fixture.network
        asExecutor.secret = executorCredential
        fixture.startExecutor(cores: 1, network: asExecutor)
        XCTAssertTrue(fixture.waitForExecutors(1))
        var asSubmitter = fixture.network
        asSubmitter.secret = clientCredential
        let client = try ClusterClient(master: fixture.address, buildID: ClusterFixture.buildID, network: asSubmitter)
        XCTAssertNoThrow(try client.status(of: nil))
        client.close()
    }

    func testBeforeAuthenticationFramesAreCappedAtAFewKiB() throws {
        let peer = try RawPeer(port: port)
        XCTAssertNotNil(peer.readFrame())
        // A hello of 5,000 bytes: well under sextant.network.maxFrameBytes, far over what a hello needs.
        peer.write(withUnsafeBytes(of: UInt32(5000).bigEndian, Array.init) + Array("SXTN".utf8) + [0, 2, 2])
        XCTAssertTrue(peer.waitForClose(timeout: 3))
        XCTAssertTrue(eventually { fixture.logs.contains("frame length 5000 exceeds the 4096-byte limit before authentication") })
        // After authentication the full limit applies: a large status request is read.
        var (authenticated, session) = try authenticated("client")
        let padded = RawPeer.frame(type: MessageType.status.rawValue,
                                   body: RawPeer.json(["padding": String(repeating: "x", count: 20_000)]))
        authenticated.write(session.seal(padded))
        XCTAssertEqual(authenticated.readFrame()?.type, MessageType.statusReply.rawValue)
    }

    func testOneAddressCannotTakeEverySlot() throws {
        let held = try (0..<4).map { _ in try RawPeer(port: port, source: "127.0.0.1") }
        for peer in held { XCTAssertNotNil(peer.readFrame(), "within the per-address cap: greeted") }
        let extra = try RawPeer(port: port, source: "127.0.0.1")
        XCTAssertTrue(extra.waitForClose(timeout: 2))
        XCTAssertTrue(eventually { fixture.logs.contains("4 connections open from 127.0.0.1 (sextant.network.maxConnectionsPerAddress)") })
        let elsewhere = try RawPeer(port: port, source: "127.0.0.2")
        XCTAssertNotNil(elsewhere.readFrame(), "another address still gets in")
    }

    func testAnIdleClientIsCutOffButAWaitingOneIsNot() throws {
        let (idle, _) = try authenticated("client")
        XCTAssertTrue(idle.waitForClose(timeout: 3), "silent for sextant.network.idleTimeout (0.5 s)")
        XCTAssertTrue(eventually { fixture.logs.contains("idle for 0.5 s (sextant.network.idleTimeout)") })

        fixture.tearDown()
        let handler = ScriptedJobHandler()
        var network = fixture.network
        network.idleTimeout = 0.5
        fixture = ClusterFixture(network: network, jobHandler: handler)
        try fixture.startMaster()
        let client = try fixture.client()
        let job = try client.submit(ScriptedJobHandler.payload(.init(gated: true)))
        let finished = Locked<JobRecord?>(nil)
        let waiter = Thread { finished.value = try? client.wait(for: job.id) }
        waiter.start()
        Thread.sleep(forTimeInterval: 1.5)  // three idle timeouts while the job runs
        handler.openGate()
        XCTAssertTrue(eventually(timeout: 5) { finished.value != nil }, "the waiting client heard the end")
        XCTAssertEqual(finished.value?.status, .succeeded)
    }

    func testARogueExecutorCannotClaimAnotherExecutorsTaskOrInflateItsCores() throws {
        let legitimate = fixture.startExecutor(cores: 1, work: upperCasing(delay: 0.3))
        XCTAssertTrue(fixture.waitForExecutors(1))
        var (rogue, session) = try authenticated("executor", source: "127.0.0.3")
        rogue.write(session.seal(try FrameCorpus.frame(.register(ExecutorRegistration(
            host: "rogue\u{1b}[31m", cores: 1_000_000, localPaths: [],
            attributes: Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", "v\u{7}\($0)") }))))))
        XCTAssertEqual(rogue.readFrame().flatMap { session.open($0) }.map { _ in true }, true)
        XCTAssertTrue(fixture.waitForExecutors(2))
        let rogueInfo = try XCTUnwrap(fixture.master.executors.first { $0.id != legitimate.executorID })
        XCTAssertEqual(rogueInfo.cores, ExecutorRegistration.maxCores, "claimed cores are capped")
        XCTAssertEqual(rogueInfo.host, "rogue[31m", "control characters are dropped from the host name")
        XCTAssertTrue(fixture.logs.contains("executor claims 1000000 cores; counting 1024"))
        // Declared attributes (what --pipe may run there) survive, bounded and printable.
        XCTAssertEqual(rogueInfo.attributes?.count, ExecutorRegistration.maxAttributes)
        XCTAssertEqual(rogueInfo.attributes?["k0"], "v0")

        // The legitimate executor runs task 0; the rogue answers for it first, naming the legitimate executor.
        let task = TaskSpec(id: TaskAttemptID(jobID: "job", partition: 0, attempt: 0), inputs: ["input-0"], steps: [])
        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: [])
        driver.start()
        driver.backend.launch(task, on: try XCTUnwrap(legitimate.executorID))
        let forged = TaskResult(id: task.id, executor: try XCTUnwrap(legitimate.executorID),
                                outcome: .success(records: [Data("\"FORGED\"".utf8)]), duration: 0)
        rogue.write(session.seal(try FrameCorpus.frame(.taskResult(forged))))
        XCTAssertTrue(driver.wait(timeout: 5) { $0.results.count == 1 })
        Thread.sleep(forTimeInterval: 0.2)
        let results = driver.snapshot { $0.results }
        XCTAssertEqual(results.count, 1, "the forged result never reaches the scheduler")
        XCTAssertEqual(results.first?.executor, legitimate.executorID)
        guard case .success(let records)? = results.first?.outcome else { return XCTFail("\(results)") }
        XCTAssertEqual(records.map { String(decoding: $0, as: UTF8.self) }, ["\"INPUT-0\""])
        driver.backend.stop()
    }

    func testPeersRefuseAMasterOffLoopbackThatDoesNotAuthenticate() throws {
        guard let address = Self.nonLoopbackAddress() else {
            throw XCTSkip("this machine has no non-loopback IPv4 address to listen on")
        }
        let impostor = RawListener(host: address)
        Thread.detachNewThread {
            let peer = impostor.accept()
            _ = FakeMaster.welcome(peer)
            _ = peer.waitForClose(timeout: 3)
        }
        var open = fixture.network
        open.secret = nil
        XCTAssertThrowsError(try ClusterClient(master: MasterAddress(host: address, port: impostor.port),
                                               buildID: ClusterFixture.buildID, network: open)) { error in
            XCTAssertEqual(error as? ClusterError, .refused("sextant://\(address):\(impostor.port) is not on loopback and "
                + "does not authenticate; refusing it (give this side the cluster's secret or credential: "
                + "sextant.authenticate.secretFile or SEXTANT_AUTH_SECRET)"))
        }
    }

    /// The first IPv4 address of this machine that is not 127.x.
    static func nonLoopbackAddress() -> String? {
        let output = (try? TestSupport.run("/usr/bin/hostname", ["-I"]).stdout) ?? ""
        return output.split(separator: " ").map(String.init).first { $0.contains(".") && !$0.hasPrefix("127.") }
    }
}
