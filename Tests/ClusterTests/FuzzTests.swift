import Engine
import Foundation
import TestSupport
import NIOCore
import XCTest
@testable import Cluster

/// 10^5 random and mutated frames at a master (before and after authentication) and at an
/// executor daemon (from a fake master), over a few hundred pipelined connections on 127.0.0.1:
/// nothing crashes, no unauthenticated peer is ever welcomed, memory stays bounded, and a
/// legitimate executor keeps running tasks throughout and afterwards.
final class FuzzTests: XCTestCase {
    private let secret = "fuzz secret, long enough"
    private var fixture: ClusterFixture!

    override func setUpWithError() throws {
        var network = NetworkSettings.fast(secret: secret)
        network.handshakeTimeout = 1
        network.maxConnections = 64
        fixture = ClusterFixture(network: network)
        try fixture.startMaster()
    }

    override func tearDown() {
        fixture.tearDown()
    }

    private var port: Int { fixture.master.port! }

    func testMutatedFramesNeverCrashOrAuthenticateAndALegitimateExecutorKeepsWorking() throws {
        let legitimate = fixture.startExecutor(cores: 2)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let work = BackgroundTasks(backend: fixture.master.makeBackend())
        work.start()
        defer { work.stop() }

        var random = FuzzRandom(seed: 0x5EED)
        let corpus = try FrameCorpus.toMaster()
        // Warm up (allocator pools, NIO buffers, lazily built tables), then measure growth.
        // Most mutations close the connection at the first bad frame, so many short connections
        // reach the decoder more often than a few long ones.
        _ = try fuzzMaster(connections: 100, framesEach: 50, corpus: corpus, random: &random)
        let rssBefore = FuzzTests.residentBytes()
        let started = Date()
        let unauthenticated = try fuzzMaster(connections: 800, framesEach: 50, corpus: corpus, random: &random)
        let authenticated = try fuzzMaster(connections: 500, framesEach: 50, corpus: corpus, random: &random,
                                           as: [.client, .executor])
        let growth = FuzzTests.residentBytes() - rssBefore
        let sent = unauthenticated.frames + authenticated.frames
        print("fuzz: \(sent) frames to the master over \(unauthenticated.connections + authenticated.connections) "
              + "connections in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; "
              + "RSS +\(growth >> 20) MiB; \(work.completed) legitimate tasks done meanwhile")
        print("fuzz: why the master closed connections: \(FuzzTests.closeReasons(fixture.logs.all))")

        XCTAssertEqual(unauthenticated.welcomed, 0, "no peer without the secret is ever welcomed")
        XCTAssertGreaterThan(authenticated.welcomed, 0, "the authenticated half really got past the handshake")
        XCTAssertLessThan(growth, 128 << 20, "memory stays bounded")
        XCTAssertEqual(legitimate.executorID, fixture.master.executors.first?.id, "the legitimate executor never dropped")
        XCTAssertTrue(eventually(timeout: 5) { work.completed > 0 }, "legitimate tasks ran during the fuzzing")
        let after = work.completed
        XCTAssertTrue(eventually(timeout: 10) { work.completed >= after + 20 }, "and keep running afterwards")
        XCTAssertTrue(eventually(timeout: 5) { fixture.master.executors.count == 1 }, "no fuzzing connection registered for good")
    }

    func testMutatedFramesFromAFakeMasterNeverCrashAnExecutor() throws {
        let fake = RawListener()
        let settings = ExecutorSettings(master: MasterAddress(host: "127.0.0.1", port: fake.port), cores: 2,
                                        host: "127.0.0.1", reconnectInitialDelay: 0.01, reconnectMaxDelay: 0.02,
                                        network: .fast())
        let ran = Locked(0)
        let daemon = ExecutorDaemon(settings: settings, buildID: ClusterFixture.buildID,
                                    logger: fixture.logs.logger("fuzzed-executor")) { spec, executor in
            ran.update { $0 += 1 }
            return upperCasing()(spec, executor)
        }
        daemon.start()
        defer { daemon.stop() }

        var random = FuzzRandom(seed: 0xE7EC)
        let corpus = try FrameCorpus.toExecutor()
        var frames = 0
        let rssBefore = FuzzTests.residentBytes()
        for _ in 0..<600 {
            let peer = fake.accept()
            XCTAssertTrue(FakeMaster.welcome(peer), "the executor keeps coming back for more")
            var batch: [UInt8] = []
            for _ in 0..<50 { batch += corpus.mutated(&random) }
            frames += 50
            peer.write(batch)
            _ = peer.waitForClose(timeout: 0.2)
        }
        // Still alive and still correct: a proper task on a proper connection is answered.
        let peer = fake.accept()
        XCTAssertTrue(FakeMaster.welcome(peer))
        let task = TaskSpec(id: TaskAttemptID(jobID: "after-fuzz", partition: 0, attempt: 0), inputs: ["ok"], steps: [])
        peer.write(try FrameCorpus.frame(.launchTask(task)))
        var answer: (version: UInt16, type: UInt8, body: [UInt8])?
        while let frame = peer.readFrame(timeout: 5) {
            if frame.type == MessageType.taskResults.rawValue { answer = frame; break }
        }
        let results = try answer.map { try Message.decode(frame: ByteBuffer(bytes: Array("SXTN".utf8) + [0, 3, $0.type] + $0.body)) }
        guard case .taskResults(let answered)? = results else { return XCTFail("no result: \(String(describing: results))") }
        XCTAssertEqual(answered.map(\.id), [task.id])
        let growth = FuzzTests.residentBytes() - rssBefore
        print("fuzz: \(frames) frames to an executor over 601 connections; RSS +\(growth >> 20) MiB; \(ran.value) tasks ran")
        XCTAssertLessThan(growth, 128 << 20)
    }

    func testSlowLorisConnectionsAreCutOffAndTheCapHoldsWhileExecutorsWork() throws {
        fixture.startExecutor(cores: 2)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let work = BackgroundTasks(backend: fixture.master.makeBackend())
        work.start()
        defer { work.stop() }

        // Partial frames held open: more than the cap (64, the executor holds one).
        let loris = try (0..<80).map { _ in try RawPeer(port: port) }
        for peer in loris { peer.write([0, 0, 0, 100] + Array("SXTN".utf8) + [0, 1, 2]) }
        XCTAssertTrue(eventually(timeout: 0.8) {
            fixture.logs.all.filter { $0.contains("64 connections open (sextant.network.maxConnections)") }.count >= 80 - 63
        }, "connections beyond sextant.network.maxConnections are closed on accept")
        let done = work.completed
        XCTAssertTrue(eventually(timeout: 5) { work.completed >= done + 20 }, "the executor keeps working meanwhile")
        // Every held connection is cut off after sextant.network.handshakeTimeout (1 s here).
        let deadline = Date(timeIntervalSinceNow: 5)
        let allClosed = loris.allSatisfy { $0.waitForClose(timeout: max(0.01, deadline.timeIntervalSinceNow)) }
        XCTAssertTrue(allClosed)
        XCTAssertTrue(fixture.logs.contains("no handshake within 1.0 s"))
        // The slots are free again: a new executor joins.
        fixture.startExecutor(cores: 1)
        XCTAssertTrue(fixture.waitForExecutors(2))
    }

    // MARK: Driving the master

    private struct Tally {
        var connections = 0
        var frames = 0
        var welcomed = 0
    }

    /// Opens `connections` connections (8 at a time), each sending `framesEach` mutated frames in
    /// one pipelined write, then reading whatever the master answers until it closes.
    /// With `roles`, each connection first authenticates properly as one of them.
    private func fuzzMaster(connections: Int, framesEach: Int, corpus: FrameCorpus, random: inout FuzzRandom,
                            as roles: [PeerRole] = []) throws -> Tally {
        let seeds = (0..<connections).map { _ in random.next() }
        let tally = Locked(Tally())
        let port = self.port
        let secret = ClusterSecret(self.secret)
        DispatchQueue.concurrentPerform(iterations: 8) { lane in
            for index in stride(from: lane, to: connections, by: 8) {
                guard let peer = try? RawPeer(port: port), let hello = peer.readFrame(),
                      let serverNonce = FuzzTests.nonce(in: hello.body) else { continue }
                var welcomed = false
                var session: RawSession?
                if !roles.isEmpty {
                    let role = roles[Int(seeds[index] % UInt64(roles.count))]
                    session = FakeClient.authenticate(peer, role: role, secret: secret, serverNonce: serverNonce)
                    welcomed = session != nil
                }
                var random = FuzzRandom(seed: seeds[index])
                var batch: [UInt8] = []
                // Authenticated, each well-formed mutation gets a valid MAC, so it reaches the decoder.
                for _ in 0..<framesEach {
                    let frame = corpus.mutated(&random)
                    let declared = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
                    batch += session != nil && frame.count > 4 && declared == frame.count - 4
                        ? session!.seal(frame) : frame
                }
                peer.write(batch)
                peer.finishWriting()
                while let frame = peer.readFrame(timeout: 3) {
                    if frame.type == MessageType.welcome.rawValue { welcomed = true }
                }
                tally.update {
                    $0.connections += 1
                    $0.frames += framesEach
                    if welcomed { $0.welcomed += 1 }
                }
            }
        }
        return tally.value
    }

    /// How often each kind of "closing connection: REASON" was logged, by the reason's first words.
    static func closeReasons(_ lines: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in lines {
            guard let range = line.range(of: "closing connection: ") ?? line.range(of: "refused ") else { continue }
            let words = line[range.upperBound...].split(separator: " ").prefix(4)
                .filter { !$0.contains(where: \.isNumber) }.joined(separator: " ")
            counts[words, default: 0] += 1
        }
        return counts
    }

    static func nonce(in body: [UInt8]) -> Data? {
        (RawPeer.decodeJSON(body)["nonce"] as? String).flatMap { Data(base64Encoded: $0) }
    }

    /// This process's resident set size, from /proc/self/status.
    static func residentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}

/// Valid frames of every message a peer may send, encoded by the module's own codec, and the
/// ways to break them.
struct FrameCorpus {
    let templates: [[UInt8]]

    static func frame(_ message: Message, version: UInt16 = WireFormat.protocolVersion) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try message.encode(into: &buffer, version: version)
        return withUnsafeBytes(of: UInt32(buffer.readableBytes).bigEndian, Array.init) + Array(buffer.readableBytesView)
    }

    /// What a client or executor may send a master, plus what only a master sends (wrong direction),
    /// a hello whose proof answers another connection's challenge (a replay), and a JSON depth bomb.
    static func toMaster() throws -> FrameCorpus {
        let nonce = Data(repeating: 1, count: Handshake.nonceBytes)
        let replayedProof = Handshake.clientProof(key: ClusterSecret("fuzz secret, long enough").key(for: .executor)!,
                                                  serverNonce: Data(repeating: 9, count: 32),
                                                  role: .executor, clientNonce: nonce)
        let task = TaskAttemptID(jobID: "fuzz", partition: 3, attempt: 1)
        var frames = try [
            Message.clientHello(ClientHello(protocolVersion: 1, buildID: ClusterFixture.buildID, role: .executor, nonce: nonce, proof: replayedProof)),
            .clientHello(ClientHello(protocolVersion: 1, buildID: ClusterFixture.buildID, role: .client, nonce: nonce, proof: nil)),
            .register(ExecutorRegistration(host: "fuzz", cores: 4, localPaths: ["/data"])),
            .heartbeat,
            .taskResult(TaskResult(id: task, executor: "exec-1@x", outcome: .success(records: [Data("\"A\"".utf8)]), duration: 0.5)),
            .taskResult(TaskResult(id: task, executor: "exec-1@x", outcome: .failure(message: "boom"), duration: 0.1)),
            .taskResults([TaskResult(id: task, executor: "exec-1@x", outcome: .success(records: [Data("\"A\"".utf8)]), duration: 0.5),
                          TaskResult(id: task, executor: "exec-1@x", outcome: .failure(message: "boom"), duration: 0.1)]),
            .submit(SubmitRequest(jobID: nil, payload: Data("{\"steps\":1}".utf8), settings: ["k": "v"])),
            .waitJob(JobReference(jobID: "fuzz-job")),
            .status(StatusRequest(jobID: nil)),
            .cancelJob(JobReference(jobID: "fuzz-job")),
            .welcome(Welcome(proof: nil)),
            .launchTask(TaskSpec(id: task, inputs: ["a", "b"], steps: [])),
        ].map { try frame($0) }
        let bomb = Array(repeating: UInt8(ascii: "["), count: 20_000)
        frames.append(RawPeer.frame(type: MessageType.status.rawValue, body: bomb))
        return FrameCorpus(templates: frames)
    }

    /// What a master may send an executor, plus what it should never send.
    static func toExecutor() throws -> FrameCorpus {
        let task = TaskAttemptID(jobID: "fuzz", partition: 1, attempt: 2)
        var frames = try [
            Message.launchTask(TaskSpec(id: task, inputs: ["x", "y"], steps: [], settings: ["a": "b"])),
            .launchTasks([TaskSpec(id: task, inputs: ["x"], steps: [OperatorStep(name: "op", parameters: Data("{}".utf8))],
                                   settings: ["a": "b"]),
                          TaskSpec(id: TaskAttemptID(jobID: "fuzz", partition: 2, attempt: 3), inputs: [], steps: [])]),
            .cancelTask(task),
            .heartbeatAck,
            .registered(RegistrationAck(executorID: "exec-9@fuzz", heartbeatInterval: 0.1)),
            .serverHello(ServerHello(protocolVersion: 1, buildID: ClusterFixture.buildID, nonce: Data(count: 32),
                                     authenticationRequired: false)),
            .refused(Refusal(reason: "fuzz")),
            .statusReply([]),
        ].map { try frame($0) }
        frames.append(RawPeer.frame(type: MessageType.launchTask.rawValue, body: Array(repeating: UInt8(ascii: "{"), count: 20_000)))
        return FrameCorpus(templates: frames)
    }

    /// A template as is, or broken in one of the ways a network or an attacker breaks frames.
    func mutated(_ random: inout FuzzRandom) -> [UInt8] {
        var frame = templates[Int(random.next() % UInt64(templates.count))]
        switch random.next() % 10 {
        case 0:
            return frame
        case 1, 2:  // flipped bytes, anywhere (length, magic, version, type, body)
            for _ in 0...(random.next() % 8) {
                frame[Int(random.next() % UInt64(frame.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            }
        case 3:  // truncated: the rest of the stream is then misaligned
            frame = Array(frame.prefix(Int(random.next() % UInt64(frame.count))))
        case 4:  // a wrong length prefix, a little off
            let length = UInt32(max(0, frame.count - 4 + Int(random.next() % 16) - 8))
            frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian, Array.init))
        case 5:  // a huge length prefix
            let length = [UInt32.max, 0x7fff_ffff, UInt32(2 << 20), UInt32(1 << 20) + 1][Int(random.next() % 4)]
            frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian, Array.init))
        case 6:  // random bytes
            return (0..<(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 7:  // a random type byte or version
            if frame.count > 10 {
                frame[4 + 4 + Int(random.next() % 3)] = UInt8(truncatingIfNeeded: random.next())
            }
        case 8:  // the body replaced by JSON of the wrong shape
            let junk = ["{}", "[]", "null", "{\"cores\":-1}", "{\"cores\":1e308,\"host\":\"x\",\"localPaths\":[]}",
                        "{\"jobID\":\"\(String(repeating: "a", count: 5000))\"}", "\"\\ud800\"", "{\"a\":"][Int(random.next() % 8)]
            frame = RawPeer.frame(type: frame.count > 10 ? frame[10] : 2, body: Array(junk.utf8))
        default:  // two frames glued with a byte of garbage between them
            frame += [UInt8(truncatingIfNeeded: random.next())] + templates[Int(random.next() % UInt64(templates.count))]
        }
        return frame
    }
}

/// A client's side of the handshake, written out by hand.
enum FakeClient {
    /// The session after a welcome (and, as an executor, a registration); nil when turned away.
    static func authenticate(_ peer: RawPeer, role: PeerRole, secret: ClusterSecret, serverNonce: Data,
                             cores: Int = 1) -> RawSession? {
        let nonce = Handshake.freshNonce()
        guard let key = secret.key(for: role) else { return nil }
        let proof = Handshake.clientProof(key: key, serverNonce: serverNonce, role: role, clientNonce: nonce)
        guard let hello = try? FrameCorpus.frame(.clientHello(ClientHello(
            protocolVersion: WireFormat.protocolVersion, buildID: ClusterFixture.buildID, role: role, nonce: nonce, proof: proof)))
        else { return nil }
        peer.write(hello)
        guard peer.readFrame()?.type == MessageType.welcome.rawValue else { return nil }
        var session = RawSession(roleKey: key, serverNonce: serverNonce, clientNonce: nonce)
        if role == .executor {
            guard let register = try? FrameCorpus.frame(.register(ExecutorRegistration(host: "fuzz", cores: cores, localPaths: [])))
            else { return nil }
            peer.write(session.seal(register))
            guard let reply = peer.readFrame(), reply.type == MessageType.registered.rawValue,
                  session.open(reply) != nil else { return nil }
        }
        return session
    }
}

/// A master's side of the handshake, for an executor without a secret.
enum FakeMaster {
    static func welcome(_ peer: RawPeer) -> Bool {
        guard let hello = try? FrameCorpus.frame(.serverHello(ServerHello(
            protocolVersion: WireFormat.protocolVersion, buildID: ClusterFixture.buildID,
            nonce: Handshake.freshNonce(), authenticationRequired: false))) else { return false }
        peer.write(hello)
        guard peer.readFrame()?.type == MessageType.clientHello.rawValue else { return false }
        peer.write((try? FrameCorpus.frame(.welcome(Welcome(proof: nil)))) ?? [])
        guard peer.readFrame()?.type == MessageType.register.rawValue else { return false }
        peer.write((try? FrameCorpus.frame(.registered(RegistrationAck(executorID: "exec-fuzz@x", heartbeatInterval: 0.1)))) ?? [])
        return true
    }
}

/// Tasks launched on the master's executors over and over, counting the ones answered.
final class BackgroundTasks: BackendEvents, @unchecked Sendable {
    private let backend: ExecutorBackend
    private let lock = NSLock()
    private var slots: [ExecutorID: Int] = [:]
    private var next = 0
    private var done = 0
    private var stopped = false

    init(backend: ExecutorBackend) { self.backend = backend }

    func start() { backend.start(events: self) }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
        backend.stop()
    }

    var completed: Int {
        lock.lock(); defer { lock.unlock() }
        return done
    }

    func executorAdded(_ info: ExecutorInfo) {
        lock.lock()
        slots[info.id] = info.cores
        lock.unlock()
        for _ in 0..<info.cores { launch(on: info.id) }
    }

    func executorLost(_ id: ExecutorID, reason: String) {
        lock.lock(); slots[id] = nil; lock.unlock()
    }

    func taskFinished(_ result: TaskResult) {
        lock.lock()
        if case .success = result.outcome { done += 1 }
        lock.unlock()
        launch(on: result.executor)
    }

    private func launch(on executor: ExecutorID) {
        lock.lock()
        guard !stopped, slots[executor] != nil else { lock.unlock(); return }
        next += 1
        let id = TaskAttemptID(jobID: "background", partition: next, attempt: next)
        lock.unlock()
        backend.launch(TaskSpec(id: id, inputs: ["work-\(id.partition)"], steps: []), on: executor)
    }
}

/// xorshift64*: reproducible fuzzing from a seed.
struct FuzzRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
