import Foundation
import Storage
import TestSupport
import XCTest

/// Jobs that read their images from and write their catalogs to a real S3 server
/// (SeaweedFS, started by scripts/test with credentials enforced).
final class S3JobTests: XCTestCase {
    var cluster: ClusterHarness?
    private var ownServer: Process?

    override func tearDown() {
        cluster?.shutDown()
        TestSupport.stop(ownServer)
        super.tearDown()
    }

    struct Server {
        var endpoint: String
        var accessKey: String
        var secretKey: String
        var bucket: String

        var environment: [String: String] {
            ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_PROFILE": "sextant-none"]
        }
        var settings: [String: String] { ["sextant.s3.endpoint": endpoint] }
        var conf: [String] { ["--conf", "sextant.s3.endpoint=\(endpoint)"] }

        func store() throws -> ObjectStore {
            try StoreFactory.makeStore(for: "s3://\(bucket)", settings: settings, environment: environment)
        }
    }

    func sharedServer() throws -> Server { try Self.sharedServer() }

    static func sharedServer() throws -> Server {
        guard let server = TestS3Server.running else { throw XCTSkip(TestS3Server.unavailable) }
        return Server(endpoint: server.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, bucket: server.bucket)
    }

    /// Uploads generated frames under `prefix/` and returns the local copies' directory.
    func uploadFrames(_ count: Int, to server: Server, prefix: String, in dir: URL) throws -> URL {
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: count, into: frames)
        let store = try server.store()
        for name in try FileManager.default.contentsOfDirectory(atPath: frames.path) {
            try store.put("\(prefix)/\(name)", contentsOf: frames.appendingPathComponent(name))
        }
        return frames
    }

    private func assertSameCatalogs(local: URL, store: ObjectStore, prefix: String, count: Int,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let remote = try store.listAll(prefix: prefix + "/").filter { $0.key.hasSuffix(".cat.fits") }
        XCTAssertEqual(remote.count, count, "one catalog per input in S3", file: file, line: line)
        for object in remote {
            let name = (object.key as NSString).lastPathComponent
            XCTAssertEqual(try store.get(object.key), try Data(contentsOf: local.appendingPathComponent(name)),
                           "\(name): S3 catalog differs from the file-system one", file: file, line: line)
        }
    }

    func testLocalAndClusterJobsReadAndWriteS3WithTheSameCatalogsAsFiles() throws {
        let server = try sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-s3")
        let run = "run-\(UUID().uuidString.prefix(8))"
        let frames = try uploadFrames(5, to: server, prefix: "\(run)/in", in: dir)
        let fsOut = dir.appendingPathComponent("fs")
        XCTAssertEqual(try Sextant.run(["run", frames.path, "--out", fsOut.path]).status, 0)

        let local = try Sextant.run(["run", "s3://\(server.bucket)/\(run)/in", "--out", "s3://\(server.bucket)/\(run)/local"]
                                    + server.conf, environment: server.environment)
        XCTAssertEqual(local.status, 0, local.stdout + local.stderr)
        try assertSameCatalogs(local: fsOut, store: try server.store(), prefix: "\(run)/local", count: 5)
        XCTAssertNotNil(try server.store().head("\(run)/local/_manifest.jsonl"))
        XCTAssertNotNil(try server.store().head("\(run)/local/_SUCCESS"))
        // Issue 12: how long tasks waited for their inputs' bytes, per input and in the summary.
        XCTAssertTrue(local.stdout.contains("waited for input bytes"), local.stdout)
        let manifest = String(decoding: try server.store().get("\(run)/local/_manifest.jsonl"), as: UTF8.self)
        XCTAssertGreaterThan(manifest.components(separatedBy: "\"waitSeconds\"").count - 1, 0, manifest)

        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        // The master runs the job's driver (it checks and lists the store); executors read and write.
        // The endpoint is each daemon's own setting: a job cannot point their credentials elsewhere.
        let daemons = server.environment.merging(["AWS_ENDPOINT_URL_S3": server.endpoint]) { _, new in new }
        try cluster.startMaster(environment: daemons)
        for name in ["e1", "e2"] { try cluster.startExecutor(name, environment: daemons) }
        try cluster.waitForExecutors(2)
        var environment = cluster.environment
        environment.merge(server.environment) { _, new in new }
        let submitted = try TestSupport.run(Sextant.binary, ["run", "s3://\(server.bucket)/\(run)/in",
                                                             "--out", "s3://\(server.bucket)/\(run)/cluster",
                                                             "--master", cluster.masterURL] + server.conf,
                                            environment: environment)
        XCTAssertEqual(submitted.status, 0, submitted.stdout + submitted.stderr + cluster.log("master"))
        try assertSameCatalogs(local: fsOut, store: try server.store(), prefix: "\(run)/cluster", count: 5)
    }

    func testVerifyChecksAJobWhoseInputsAndCatalogsAreInS3() throws {
        let server = try sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-s3-verify")
        let run = "verify-\(UUID().uuidString.prefix(8))"
        _ = try uploadFrames(3, to: server, prefix: "\(run)/in", in: dir)
        let out = "s3://\(server.bucket)/\(run)/out"
        let job = try Sextant.run(["run", "s3://\(server.bucket)/\(run)/in", "--out", out] + server.conf,
                                  environment: server.environment)
        XCTAssertEqual(job.status, 0, job.stdout + job.stderr)
        let manifest = String(decoding: try server.store().get("\(run)/out/_manifest.jsonl"), as: UTF8.self)
        XCTAssertTrue(manifest.contains("\"inputETag\""), "S3 inputs record their ETag: \(manifest)")

        let clean = try Sextant.run(["verify", out] + server.conf, environment: server.environment)
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)
        XCTAssertTrue(clean.stdout.contains("3 of 3 inputs checked: every catalog is byte-identical"), clean.stdout)

        // Replace one input with other bytes: verify names it.
        let store = try server.store()
        let key = "\(run)/in/small-000001.fits"
        var bytes = try store.get(key)
        bytes[bytes.count - 3000] ^= 0x01
        try store.put(key, data: bytes)
        let dirty = try Sextant.run(["verify", out] + server.conf, environment: server.environment)
        XCTAssertEqual(dirty.status, 1, dirty.stdout + dirty.stderr)
        XCTAssertTrue(dirty.stdout.contains("s3://\(server.bucket)/\(key): input changed"), dirty.stdout)
    }

    func testAWrongSecretGivesOneClearErrorBeforeAnyTaskRuns() throws {
        var server = try sharedServer()
        server.secretKey = "not-the-secret"
        let dir = try TestSupport.makeTemporaryDirectory("e2e-s3-wrong")
        try Sextant.generate("small", count: 3, into: dir.appendingPathComponent("frames"))
        let result = try Sextant.run(["run", dir.appendingPathComponent("frames").path,
                                      "--out", "s3://\(server.bucket)/wrong-key"] + server.conf,
                                     environment: server.environment)
        XCTAssertEqual(result.status, 2, result.stdout + result.stderr)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("sextant:") }
        XCTAssertEqual(errors.count, 1, result.stderr)
        XCTAssertTrue(errors.first?.contains("SignatureDoesNotMatch") ?? false, result.stderr)
        XCTAssertFalse(result.stdout.contains("committed"), "no task ran")
    }

    func testAJobRidesThroughAnS3ServerRestart() throws {
        guard (try? TestSupport.run("/usr/bin/which", ["weed"]).status) == 0 else {
            throw XCTSkip("SeaweedFS (weed) is not installed")
        }
        let shared = try sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-s3-restart")
        // A free block of ports scripts/s3-server set aside for a second, test-owned server.
        let base = ProcessInfo.processInfo.environment["SEXTANT_TEST_S3_RESTART_PORT_BASE"].flatMap(Int.init)
            ?? 18500 + Int(ProcessInfo.processInfo.processIdentifier % 50) * 10
        let server = Server(endpoint: "http://127.0.0.1:\(base)", accessKey: shared.accessKey,
                            secretKey: shared.secretKey, bucket: "restart")
        let serverDir = dir.appendingPathComponent("s3")
        func startServer() throws {
            ownServer = try Sextant.startProgram("/bin/bash", [TestSupport.repoRoot.appendingPathComponent("scripts/s3-server").path,
                                                               "run", serverDir.path, "\(base)"],
                                                 logTo: dir.appendingPathComponent("weed-\(Date().timeIntervalSince1970).log"),
                                                 environment: ["SEXTANT_TEST_S3_ACCESS_KEY": shared.accessKey,
                                                               "SEXTANT_TEST_S3_SECRET_KEY": shared.secretKey])
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let made = try TestSupport.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT",
                                                                 "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                                                 "--aws-sigv4", "aws:amz:us-east-1:s3",
                                                                 "--user", "\(shared.accessKey):\(shared.secretKey)",
                                                                 "\(server.endpoint)/\(server.bucket)"]).stdout
                if made == "200" || made == "409", (try? server.store().put(".probe", data: Data("x".utf8))) != nil { return }
                usleep(200_000)
            }
            XCTFail("own SeaweedFS did not start")
        }
        try startServer()
        _ = try uploadFrames(24, to: server, prefix: "in", in: dir)

        let out = dir.appendingPathComponent("job.log")
        let job = try Sextant.start(["run", "s3://restart/in", "--out", "s3://restart/out", "--master", "local[1]",
                                     "--conf", "sextant.s3.maxRetries=12", "--conf", "sextant.s3.retryMaxDelay=2"] + server.conf,
                                    logTo: out, environment: server.environment)
        let store = try server.store()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? store.listAll(prefix: "out/"))?.count ?? 0) < 3 { usleep(50_000) }
        TestSupport.stop(ownServer)
        Thread.sleep(forTimeInterval: 1)
        try startServer()
        let status = TestSupport.awaitExit(job, timeout: 300)
        let log = try String(contentsOf: out, encoding: .utf8)
        XCTAssertEqual(status, 0, log)
        let catalogs = try store.listAll(prefix: "out/").filter { $0.key.hasSuffix(".cat.fits") }
        XCTAssertEqual(catalogs.count, 24, "nothing lost or duplicated:\n\(log)")
        let manifest = String(decoding: try store.get("out/_manifest.jsonl"), as: UTF8.self)
        XCTAssertEqual(manifest.split(separator: "\n").count, 24)
        XCTAssertFalse(manifest.contains("\"failed\""), manifest)
    }
}
