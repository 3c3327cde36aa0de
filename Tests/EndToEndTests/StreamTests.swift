import Foundation
import Storage
import TestSupport
import XCTest

/// `sextant stream` as a telescope feeds it: 200 frames land at a steady rate, the stream is
/// SIGKILLed halfway and started again, and every frame must end with exactly one catalog and
/// one manifest line over all batches (none run twice, none skipped).
final class StreamTests: XCTestCase {
    static let frameCount = 200
    static let window = 32
    private var streams: [Process] = []
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        for process in streams where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            TestSupport.awaitExit(process)
        }
        super.tearDown()
    }

    func testDirectoryStreamSurvivesSIGKILLWithExactlyOneCatalogPerFrame() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-stream")
        let frames = try Self.generateFrames(in: dir)
        let watched = dir.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("out")
        let arguments = ["stream", watched.path, "--out", out.path, "--master", "local[2]"] + Self.conf

        try feed(frames, arguments: arguments, log: dir, output: { LocalStore(root: out.path) }) { index, name, source in
            let target = watched.appendingPathComponent(name)
            if index % 20 == 7 {
                // Written in place under its final name, in two halves: a stream that took it
                // before it settled would read a truncated file and fail it.
                // (Not FileManager.createFile: it writes a temporary file and renames it.)
                let bytes = try Data(contentsOf: source)
                let descriptor = open(target.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                XCTAssertGreaterThanOrEqual(descriptor, 0)
                let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
                try handle.write(contentsOf: bytes.prefix(bytes.count / 2))
                usleep(300_000)
                try handle.write(contentsOf: bytes.suffix(from: bytes.count / 2))
                try handle.close()
            } else {
                let temporary = watched.appendingPathComponent(".\(name).part")
                try FileManager.default.copyItem(at: source, to: temporary)
                try FileManager.default.moveItem(at: temporary, to: target)
            }
        }
        try assertExactlyOnce(LocalStore(root: out.path), names: frames.map(\.lastPathComponent))
    }

    func testS3StreamSurvivesSIGKILLWithExactlyOneCatalogPerFrame() throws {
        let server = try S3JobTests.sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-stream-s3")
        let frames = try Self.generateFrames(in: dir)
        let prefix = "stream-\(UUID().uuidString.prefix(8))"
        let bucket = try server.store()
        let input = "s3://\(server.bucket)/\(prefix)/in/"
        let output = "s3://\(server.bucket)/\(prefix)/out/"
        let arguments = ["stream", input, "--out", output, "--master", "local[2]"] + Self.conf + server.conf

        // Keys land out of sort order, each block of 8 newest first: a start-after cursor alone
        // would miss every key behind the newest; the checkpoint's window must catch them.
        let order = stride(from: 0, to: frames.count, by: 8).flatMap { start in
            (start..<min(start + 8, frames.count)).reversed()
        }
        let store = try StoreFactory.makeStore(for: output, settings: server.settings, environment: server.environment)
        try feed(order.map { frames[$0] }, arguments: arguments, log: dir, environment: server.environment,
                 output: { store }) { _, name, source in
            try bucket.put("\(prefix)/in/\(name)", contentsOf: source)
        }
        try assertExactlyOnce(store, names: frames.map(\.lastPathComponent))
    }

    func testClusterBatchesAreJobsOnTheMasterAndSurviveSIGKILLOfTheStream() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-stream-cluster")
        let frames = Array(try Self.generateFrames(in: dir).prefix(48))
        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        for name in ["e1", "e2"] { try cluster.startExecutor(name) }
        try cluster.waitForExecutors(2)
        let watched = dir.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("out")
        let arguments = ["stream", watched.path, "--out", out.path, "--master", cluster.masterURL] + Self.conf
            + cluster.conf.flatMap { ["--conf", $0] }
        // Slower than the others: the first batch must end (a master job) before the SIGKILL.
        try feed(frames, arguments: arguments, log: dir, environment: cluster.environment, interval: 0.1, stopSignal: SIGINT,
                 output: { LocalStore(root: out.path) }) { _, name, source in
            let temporary = watched.appendingPathComponent(".\(name).part")
            try FileManager.default.copyItem(at: source, to: temporary)
            try FileManager.default.moveItem(at: temporary, to: watched.appendingPathComponent(name))
        }
        try assertExactlyOnce(LocalStore(root: out.path), names: frames.map(\.lastPathComponent))
        let status = try cluster.client(["status"])
        XCTAssertTrue(status.stdout.contains("-b00000001"), "each batch is a job on the master: \(status.stdout)")
        let executors = Set(try Self.manifestEntries(in: LocalStore(root: out.path)).compactMap { $0["executor"] as? String })
        XCTAssertFalse(executors.isEmpty)
        XCTAssertFalse(executors.contains { $0.hasPrefix("worker-") }, "ran on the cluster's executors, not here: \(executors)")
    }

    func testSkippedFilesAreLoggedAndRecordedAndCancelStopsTheStream() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-stream-policy")
        let frames = Array(try Self.generateFrames(in: dir).prefix(5))
        let watched = dir.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        for (index, frame) in frames.enumerated() {
            let target = watched.appendingPathComponent(frame.lastPathComponent)
            try FileManager.default.copyItem(at: frame, to: target)
            if index < 3 {  // last written two hours ago
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: target.path)
            }
        }
        let out = dir.appendingPathComponent("out")
        let log = dir.appendingPathComponent("stream.log")
        // Listing alone: the new files are taken once they settled, without any event.
        let stream = try Sextant.start(["stream", watched.path, "--out", out.path, "--master", "local[1]", "--poll-only",
                                        "--conf", "sextant.stream.maxFileAge=1h"] + Self.conf, logTo: log)
        streams.append(stream)
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline, stream.isRunning, ((try? Self.manifestLines(in: LocalStore(root: out.path)).count) ?? 0) < 2 {
            usleep(100_000)
        }
        let cancel = try Sextant.run(["cancel", "--stream", out.path])
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        let status = TestSupport.awaitExit(stream, timeout: 30)
        XCTAssertNotNil(status, "sextant cancel --stream stopped it")
        XCTAssertEqual(status, 0)
        let text = try String(contentsOf: log, encoding: .utf8)
        for frame in frames.prefix(3) {
            let lines = text.split(separator: "\n").filter { $0.contains(frame.lastPathComponent + ": skipped: last modified") }
            XCTAssertEqual(lines.count, 1, "one line for \(frame.lastPathComponent): \(text)")
        }
        XCTAssertTrue(text.contains("stop requested"), text)
        XCTAssertTrue(text.contains("(listing every"), "no inotify with --poll-only: \(text)")
        let store = LocalStore(root: out.path)
        XCTAssertEqual(Set(try Self.manifestLines(in: store).map(\.name)), Set(frames.suffix(2).map(\.lastPathComponent)))
        var recorded: [String] = []
        for object in try store.listAll(prefix: "_stream/batches/") where object.key.hasSuffix(".json") {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: try store.get(object.key)) as? [String: Any])
            recorded += (record["skipped"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        }
        XCTAssertEqual(recorded.sorted(), frames.prefix(3).map(\.lastPathComponent).sorted(), "the batch records name every skipped file")
        XCTAssertFalse(try store.listAll().contains { $0.key.hasSuffix("_stream/stop") }, "the stop request is consumed")

        // Refused at start, one line each: another input's stream into this output, an output inside the input.
        let other = try Sextant.run(["stream", dir.appendingPathComponent("staging").path, "--out", out.path])
        XCTAssertEqual(other.status, 2)
        XCTAssertTrue(other.stderr.contains("is the checkpoint of a stream over \(watched.path)"), other.stderr)
        let inside = try Sextant.run(["stream", watched.path, "--out", watched.appendingPathComponent("catalogs").path])
        XCTAssertEqual(inside.status, 2)
        XCTAssertTrue(inside.stderr.contains("is inside the watched input"), inside.stderr)
        let nothing = try Sextant.run(["cancel", "--stream", dir.appendingPathComponent("nowhere").path])
        XCTAssertEqual(nothing.status, 2)
        XCTAssertTrue(nothing.stderr.contains("no stream writes here"), nothing.stderr)
    }

    func testTheWebUIShowsTheStreamLiveAndItsStopButtonStopsIt() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-stream-ui")
        let frames = Array(try Self.generateFrames(in: dir).prefix(3))
        let watched = dir.appendingPathComponent("watch")
        try FileManager.default.createDirectory(at: watched, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("stream.log")
        let stream = try Sextant.start(["stream", watched.path, "--out", dir.appendingPathComponent("out").path,
                                        "--master", "local[1]", "--ui", "--ui-port", "0"] + Self.conf, logTo: log)
        streams.append(stream)
        let text = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        XCTAssertTrue(TestSupport.eventually(30) { text().contains("web UI at ") }, text())
        let ui = try XCTUnwrap(text().range(of: "web UI at ").map { String(text()[$0.upperBound...].prefix { !$0.isWhitespace }) })
        for frame in frames {
            try FileManager.default.copyItem(at: frame, to: watched.appendingPathComponent("." + frame.lastPathComponent))
            try FileManager.default.moveItem(at: watched.appendingPathComponent("." + frame.lastPathComponent),
                                             to: watched.appendingPathComponent(frame.lastPathComponent))
        }
        var view: [String: Any] = [:]
        XCTAssertTrue(TestSupport.eventually(60) {
            view = ((try? HTTP.json(ui + "api/v1/streams")) as? [[String: Any]])?.first ?? [:]
            return view["filesCommitted"] as? Int == frames.count
        }, "\(view)")
        XCTAssertNotNil(view["latencyP50"] as? Double, "\(view)")
        XCTAssertNotNil(view["latencyP99"] as? Double, "\(view)")
        let id = try XCTUnwrap(view["id"] as? String)
        let page = try HTTP.fetch(ui + "streams")
        XCTAssertTrue(page.body.contains("\(frames.count) committed") && page.body.contains("Latency p50"), page.body)
        XCTAssertEqual(try HTTP.fetch(ui + "jobs/\(id)/cancel", method: "POST").status, 303)
        let status = TestSupport.awaitExit(stream, timeout: 30)
        XCTAssertNotNil(status, "the Stop button stopped the stream")
        XCTAssertEqual(status, 0, text())
    }

    /// scripts/bench/stream in its quick mode: every load's row has latencies and a rate.
    func testQuickStreamBenchmarkMeasuresLatencyAtEachLoad() throws {
        let out = try TestSupport.makeTemporaryDirectory("bench-stream-quick")
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/bench/stream").path
        let run = try TestSupport.run(script, ["--quick", "--out", out.path, "--sextant", Sextant.binary], timeout: 300)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        for load in ["50%", "90%", "backlog"] {
            let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("| \(load) |") }, run.stdout)
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let p50 = try XCTUnwrap(Double(cells[3].replacingOccurrences(of: " s", with: "")), String(row))
            let p99 = try XCTUnwrap(Double(cells[4].replacingOccurrences(of: " s", with: "")), String(row))
            XCTAssertGreaterThan(p50, 0, String(row))
            XCTAssertGreaterThanOrEqual(p99, p50, String(row))
            XCTAssertGreaterThan(try XCTUnwrap(Double(cells[5])), 0, String(row))
        }
    }

    // MARK: Helpers

    static let conf = ["--conf", "sextant.stream.settleTime=1s", "--conf", "sextant.stream.pollInterval=200ms",
                       "--conf", "sextant.stream.maxFilesPerBatch=16", "--conf", "sextant.stream.window=\(window)"]

    /// 200 small frames (128 x 128) from a recipe of their own.
    static func generateFrames(in dir: URL) throws -> [URL] {
        let recipes = dir.appendingPathComponent("datasets.txt")
        try Data("tiny synthetic count=\(frameCount) width=128 height=128 dtype=float32 seed=7\n".utf8).write(to: recipes)
        let staging = dir.appendingPathComponent("staging")
        let out = try Sextant.run(["datasets", "generate", "tiny", "--count", "\(frameCount)", "--out", staging.path,
                                   "--file", recipes.path])
        XCTAssertEqual(out.status, 0, out.stderr)
        return try FileManager.default.contentsOfDirectory(at: staging, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "fits" }.sorted { $0.path < $1.path }
    }

    /// Lands `frames` one every `interval` through `land` while a stream runs; SIGKILLs the stream
    /// after half of them and starts it again; when every catalog is there, stops it with `stopSignal`.
    private func feed(_ frames: [URL], arguments: [String], log dir: URL, environment: [String: String] = [:],
                      interval: TimeInterval = 0.015, stopSignal: Int32 = SIGTERM, output: () throws -> ObjectStore,
                      land: (Int, String, URL) throws -> Void) throws {
        let first = try Sextant.start(arguments, logTo: dir.appendingPathComponent("stream-1.log"), environment: environment)
        streams.append(first)
        var second: Process?
        var recordedAtKill = 0
        for (index, frame) in frames.enumerated() {
            if index == frames.count / 2 {
                kill(first.processIdentifier, SIGKILL)
                TestSupport.awaitExit(first)
                recordedAtKill = try Self.manifestLines(in: output()).count
                let restarted = try Sextant.start(arguments, logTo: dir.appendingPathComponent("stream-2.log"),
                                                  environment: environment)
                streams.append(restarted)
                second = restarted
            }
            try land(index, frame.lastPathComponent, frame)
            usleep(UInt32(interval * 1e6))
        }
        guard let second else { return XCTFail("the stream was never restarted") }
        // Wait until the batches' manifests account for every frame (or for a stream that died).
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline, second.isRunning, ((try? Self.manifestLines(in: output()).count) ?? 0) < frames.count {
            usleep(200_000)
        }
        let log2 = dir.appendingPathComponent("stream-2.log")
        XCTAssertTrue(second.isRunning, "the restarted stream died: \((try? String(contentsOf: log2, encoding: .utf8)) ?? "")")
        kill(second.processIdentifier, stopSignal)
        XCTAssertEqual(TestSupport.awaitExit(second, timeout: 30), 0, (try? String(contentsOf: log2, encoding: .utf8)) ?? "")
        XCTAssertFalse(first.isRunning)
        XCTAssertTrue((1..<frames.count).contains(recordedAtKill),
                      "the SIGKILL came halfway: \(recordedAtKill) frames were recorded before it")
    }

    /// Every line of every batch's manifest.
    static func manifestEntries(in store: ObjectStore) throws -> [[String: Any]] {
        var entries: [[String: Any]] = []
        for object in try store.listAll(prefix: "_stream/batches/") where object.key.hasSuffix(".jsonl") {
            for row in try store.get(object.key).split(separator: UInt8(ascii: "\n")) {
                entries.append(try JSONSerialization.jsonObject(with: Data(row)) as? [String: Any] ?? [:])
            }
        }
        return entries
    }

    /// Every line of every batch's manifest: (frame name, outcome).
    static func manifestLines(in store: ObjectStore) throws -> [(name: String, outcome: String)] {
        try manifestEntries(in: store).map { entry in
            (((entry["input"] as? String ?? "?") as NSString).lastPathComponent, entry["outcome"] as? String ?? "?")
        }
    }

    private func assertExactlyOnce(_ store: ObjectStore, names: [String], file: StaticString = #filePath,
                                   line: UInt = #line) throws {
        let expected = Set(names.map { $0.replacingOccurrences(of: ".fits", with: ".cat.fits") })
        let catalogs = try store.listAll().map(\.key).filter { $0.hasSuffix(".cat.fits") }
        XCTAssertEqual(Set(catalogs).symmetricDifference(expected).sorted(), [], "one catalog per frame", file: file, line: line)
        XCTAssertEqual(catalogs.count, names.count, file: file, line: line)

        // Over all batches' manifests: each frame on exactly one line, committed (or kept by the
        // rerun of the batch the SIGKILL cut off), never failed, never in two batches.
        var lines: [String: [String]] = [:]
        for (name, outcome) in try Self.manifestLines(in: store) { lines[name, default: []].append(outcome) }
        XCTAssertEqual(Set(lines.keys).symmetricDifference(names).sorted(), [], "every frame is in a batch", file: file, line: line)
        let twice = lines.filter { $0.value.count != 1 }
        XCTAssertTrue(twice.isEmpty, "frames in more than one batch: \(twice.keys.sorted().prefix(5))", file: file, line: line)
        let bad = lines.filter { !["committed", "skipped"].contains($0.value[0]) }
        XCTAssertTrue(bad.isEmpty, "frames not committed: \(bad.keys.sorted().prefix(5))", file: file, line: line)
        XCTAssertGreaterThan(lines.values.filter { $0 == ["committed"] }.count, names.count / 2, file: file, line: line)

        // The checkpoint is bounded: a cursor and at most the window, no batch left in flight.
        let checkpoint = try XCTUnwrap(try JSONSerialization.jsonObject(with: try store.get("_stream/checkpoint.json")) as? [String: Any])
        XCTAssertNil(checkpoint["inFlight"], file: file, line: line)
        XCTAssertNotNil(checkpoint["cursor"], "200 frames move the cursor past a window of \(Self.window)", file: file, line: line)
        XCTAssertLessThanOrEqual((checkpoint["done"] as? [String])?.count ?? .max, Self.window, file: file, line: line)
    }
}
