import Engine
import Foundation
import TestSupport
import XCTest
@testable import Cluster

/// Keeps what each job's payload was, to compare with what the client sent.
final class RecordingJobHandler: JobHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var payloads: [String: Data] = [:]

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        lock.lock(); payloads[job.id] = job.payload; lock.unlock()
        return JobOutcome(status: .succeeded, counts: ["bytes": job.payload.count])
    }

    func payload(of id: String) -> Data? {
        lock.lock(); defer { lock.unlock() }
        return payloads[id]
    }
}

/// Runs each job until `release` (one release a job).
final class HeldJobHandler: JobHandler, @unchecked Sendable {
    private let releases = DispatchSemaphore(value: 0)

    func release() { releases.signal() }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        releases.wait()
        return JobOutcome(status: .succeeded)
    }
}

final class SubmitScaleTests: XCTestCase {
    private var fixtures: [ClusterFixture] = []

    override func tearDown() {
        fixtures.forEach { $0.tearDown() }
    }

    private func master(network: NetworkSettings = .fast(), maxJobBytes: Int? = nil,
                        handler: JobHandler) throws -> ClusterFixture {
        let fixture = ClusterFixture(network: network, jobHandler: handler)
        fixtures.append(fixture)
        try fixture.startMaster(maxJobBytes: maxJobBytes)
        return fixture
    }

    /// A job 40 times larger than a frame travels in parts and arrives byte for byte.
    func testAJobLargerThanAFrameArrivesWhole() throws {
        let handler = RecordingJobHandler()
        let fixture = try master(handler: handler)
        let client = try fixture.client()
        defer { client.close() }
        var payload = Data(capacity: 40 << 20)
        var line = 0
        while payload.count < 40 << 20 {  // 1 MiB frames: some 54 parts of 768 KiB
            payload.append(contentsOf: Array("/survey/night-\(line / 1000)/frame-\(line).fits.gz\n".utf8))
            line += 1
        }
        XCTAssertLessThan(client.partBytes, fixture.network.maxFrameBytes)
        let record = try client.submit(payload, jobID: "big")
        XCTAssertEqual(record.id, "big")
        let final = try client.wait(for: "big", timeout: 60)
        XCTAssertEqual(final.status, .succeeded)
        XCTAssertEqual(final.outcome?.counts["bytes"], payload.count)
        let received = try XCTUnwrap(handler.payload(of: "big"))
        XCTAssertTrue(received == payload, "the payload arrived changed: \(received.count) bytes")

        // The connection is fine for the next (small, one-frame) job.
        _ = try client.submit(Data("small".utf8), jobID: "small")
        XCTAssertEqual(try client.wait(for: "small", timeout: 20).status, .succeeded)
        XCTAssertEqual(handler.payload(of: "small"), Data("small".utf8))
    }

    /// Over sextant.master.maxJobBytes: one clear refusal, and the connection still works.
    func testAJobOverTheMastersLimitIsRefusedWithTheKeyToRaise() throws {
        let fixture = try master(maxJobBytes: 3 << 20, handler: RecordingJobHandler())
        let client = try fixture.client()
        defer { client.close() }
        XCTAssertThrowsError(try client.submit(Data(count: 5 << 20), jobID: "huge")) { error in
            XCTAssertEqual("\(error)", "the job is larger than \(3 << 20) bytes (sextant.master.maxJobBytes)")
        }
        XCTAssertEqual(try client.status().map(\.id), [], "nothing was queued")
        XCTAssertEqual(try client.submit(Data(count: 2 << 20), jobID: "fits").id, "fits")
    }

    /// A master that stops answering after the handshake: the request ends with a timeout naming the key.
    func testARequestToAMasterThatStopsAnsweringTimesOut() throws {
        var network = NetworkSettings.fast()
        network.requestTimeout = 1
        let fixture = try master(network: network, handler: RecordingJobHandler())
        let proxy = try StallingProxy(to: fixture.master.port!)
        let client = try ClusterClient(master: MasterAddress(host: "127.0.0.1", port: proxy.port),
                                       buildID: ClusterFixture.buildID, network: network)
        defer { client.close() }
        XCTAssertEqual(try client.status().count, 0, "through the proxy while it forwards")
        proxy.stall()
        let started = Date()
        XCTAssertThrowsError(try client.status()) { error in
            XCTAssertEqual("\(error)", "timed out: the master did not answer the status request within 1 s "
                           + "(sextant.network.requestTimeout)")
        }
        XCTAssertEqual(Date().timeIntervalSince(started), 1, accuracy: 0.9)
    }

    /// A job may be silent far longer than a request timeout: the waiting client asks its status and
    /// goes on waiting. When the master then stops answering, the wait ends with a timeout, not never.
    func testWaitingProbesASilentJobAndEndsWhenTheMasterStopsAnswering() throws {
        var network = NetworkSettings.fast()
        network.requestTimeout = 0.5
        let handler = HeldJobHandler()
        let fixture = try master(network: network, handler: handler)
        let proxy = try StallingProxy(to: fixture.master.port!)
        let client = try ClusterClient(master: MasterAddress(host: "127.0.0.1", port: proxy.port),
                                       buildID: ClusterFixture.buildID, network: network)
        defer { client.close() }
        _ = try client.submit(Data("quiet".utf8), jobID: "quiet")
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { handler.release() }  // four timeouts of silence
        XCTAssertEqual(try client.wait(for: "quiet").status, .succeeded)

        _ = try client.submit(Data("stuck".utf8), jobID: "stuck")
        defer { handler.release() }
        proxy.stall()
        let started = Date()
        XCTAssertThrowsError(try client.wait(for: "stuck")) { error in
            XCTAssertEqual("\(error)", "timed out: the master stopped answering while job stuck ran: no message and no "
                           + "answer to a status request within 0.5 s (sextant.network.requestTimeout)")
        }
        XCTAssertEqual(Date().timeIntervalSince(started), 1, accuracy: 0.9, "two timeouts: the silence, then the probe's")
    }

    func testRequestTimeoutAndMaxJobBytesAreConfigurable() throws {
        let settings = try MasterSettings(conf: ["sextant.network.requestTimeout": "5s",
                                                 "sextant.master.maxJobBytes": "64m"], environment: [:])
        XCTAssertEqual(settings.network.requestTimeout, 5)
        XCTAssertEqual(settings.maxJobBytes, 64 << 20)
        XCTAssertEqual(try NetworkSettings(conf: [:], environment: [:]).requestTimeout, 120)
        XCTAssertThrowsError(try NetworkSettings(conf: ["sextant.network.requestTimeout": "soon"], environment: [:]))
    }
}

/// Forwards one TCP connection to the master until `stall()`; then the master's bytes stop
/// reaching the client, as when a master hangs or its host drops off the network.
final class StallingProxy: @unchecked Sendable {
    private let listener = RawListener()
    private let lock = NSLock()
    private var stalled = false
    var port: Int { listener.port }

    init(to masterPort: Int) throws {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = RawPeer.loopback(port: masterPort)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw POSIXError(.ECONNREFUSED) }
        let listener = self.listener
        Thread.detachNewThread { [self] in
            let downstream = listener.acceptDescriptor()
            Thread.detachNewThread { Self.pump(from: downstream, to: upstream, while: { true }) }
            Self.pump(from: upstream, to: downstream, while: { [self] in !self.isStalled })
        }
    }

    func stall() {
        lock.lock(); stalled = true; lock.unlock()
    }

    private var isStalled: Bool {
        lock.lock(); defer { lock.unlock() }
        return stalled
    }

    private static func pump(from source: Int32, to destination: Int32, while forwarding: () -> Bool) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            guard forwarding() else { continue }  // swallowed
            _ = buffer.withUnsafeBytes { send(destination, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
        }
        shutdown(destination, Int32(SHUT_WR))
    }
}
