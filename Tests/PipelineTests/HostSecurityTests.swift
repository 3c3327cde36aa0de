import Engine
import Foundation
import Pipeline
import TestSupport
import XCTest

/// What a job may not do to the machines that run it, and what an executor may not tell the driver.
final class HostSecurityTests: XCTestCase {
    func testAJobCannotSetTheHostsSecuritySettings() {
        let host = ["sextant.s3.endpoint": "https://s3.internal", "sextant.executor.allowedRoots": "/data",
                    "sextant.task.maxFailures": "4"]
        let job = ["sextant.s3.endpoint": "https://attacker.example", "sextant.s3.metadataEndpoint": "http://10.0.0.1",
                   "sextant.s3.instanceProfile": "true", "sextant.executor.allowedRoots": "/",
                   "sextant.s3.profile": "admin", "sextant.task.maxFailures": "2"]
        let (merged, ignored) = HostSettings.merge(host: host, job: job)
        XCTAssertEqual(merged, ["sextant.s3.endpoint": "https://s3.internal", "sextant.executor.allowedRoots": "/data",
                                "sextant.task.maxFailures": "2"], "the job's own settings win; the host's security settings stay")
        XCTAssertEqual(ignored, ["sextant.executor.allowedRoots", "sextant.s3.endpoint", "sextant.s3.instanceProfile",
                                 "sextant.s3.metadataEndpoint", "sextant.s3.profile"])
        // An executor runs a task with its own values, or none.
        XCTAssertEqual(HostSettings.pin(job, host: host), ["sextant.s3.endpoint": "https://s3.internal",
                                                          "sextant.executor.allowedRoots": "/data",
                                                          "sextant.task.maxFailures": "2"])
    }

    func testAllowedRootsSeeThroughDotDotAndSymbolicLinks() throws {
        let dir = try TestSupport.makeTemporaryDirectory("allowed-roots")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: data.appendingPathComponent("escape").path, withDestinationPath: "/etc")
        let roots = AllowedRoots(settings: ["sextant.executor.allowedRoots": "\(data.path), s3://survey/raw"])
        XCTAssertTrue(roots.allows(data.appendingPathComponent("night1/f.fits").path))
        XCTAssertTrue(roots.allows("file://" + data.appendingPathComponent("f.fits").path))
        XCTAssertTrue(roots.allows(data.path))
        XCTAssertFalse(roots.allows(data.path + "/../secret.fits"), "..")
        XCTAssertFalse(roots.allows(data.path + "-other/f.fits"), "a sibling sharing the prefix")
        XCTAssertFalse(roots.allows(data.appendingPathComponent("escape/passwd").path), "a link out of the root")
        XCTAssertFalse(roots.allows("relative/f.fits"))
        XCTAssertTrue(roots.allows("s3://survey/raw/2026/f.fits"))
        XCTAssertFalse(roots.allows("s3://survey/raw/../private/f.fits"))
        XCTAssertFalse(roots.allows("s3://survey/rawer/f.fits"))
        XCTAssertFalse(roots.allows("s3://other/raw/f.fits"))
        XCTAssertTrue(AllowedRoots(settings: [:]).allows("/anything"), "unset: everywhere")
        XCTAssertFalse(AllowedRoots(settings: [:]).isRestricted)
    }

    func testInputsAndOutputsOutsideTheAllowedRootsAreRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-roots")
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = try PipelineFixtures.frames(2, in: dir.appendingPathComponent("data/in"))
        let outside = dir.appendingPathComponent("private/f.fits").path
        try FileManager.default.createDirectory(atPath: (outside as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: frames[0], toPath: outside)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
            + [InputFile(uri: outside, relativePath: "private.fits"),
               InputFile(uri: dir.appendingPathComponent("data/in/../../private/f.fits").path, relativePath: "dotdot.fits")]
        let settings = ["sextant.executor.allowedRoots": dir.appendingPathComponent("data").path]
        let out = dir.appendingPathComponent("data/out")
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path),
                                                           settings: settings))
        XCTAssertEqual(report.committed, 2)
        XCTAssertEqual(report.failed, 2)
        let manifest = try PipelineFixtures.manifest(in: out)
        for entry in manifest.suffix(2) {
            XCTAssertEqual(entry.outcome, .failed)
            XCTAssertEqual(entry.error, "\(entry.input): the input is outside sextant.executor.allowedRoots (\(dir.appendingPathComponent("data").path))")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("private.cat.fits").path))

        let elsewhere = dir.appendingPathComponent("private/out").path
        XCTAssertThrowsError(try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: elsewhere),
                                                                   settings: settings))) { error in
            XCTAssertEqual("\(error)", "\(elsewhere): the output is outside sextant.executor.allowedRoots (\(dir.appendingPathComponent("data").path))")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere), "nothing was written there")
    }

    func testForgedRecordsFromAnExecutorFailTheirInputsWithoutCrashingTheDriver() throws {
        let dir = try TestSupport.makeTemporaryDirectory("forged-records")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = (0..<7).map { InputFile(uri: "/data/f\($0).fits", relativePath: "f\($0).fits") }
        let forger = ForgingBackend { partition, input in
            let good = ManifestEntry(input: input.uri, catalog: "f\(partition).cat.fits", outcome: .failed, error: "\(input.uri): bad")
            var entry = good
            switch partition {
            case 0: entry.outcome = .committed; entry.rows = .max  // a sum that would overflow
            case 1: return [good, good]  // two records for one input
            case 2: entry.input = "/data/f0.fits"  // another input's record
            case 3: entry.catalog = "../../etc/cron.d/x"  // a catalog name of its choosing
            case 4: entry.outcome = .skipped
            case 5: entry.seconds = -1e300
            default: break  // an honest failure
            }
            return [entry]
        }
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: dir.path))
        let report = try ExtractionDriver(spec: spec, engineSettings: EngineSettings()).run(backend: forger)
        XCTAssertEqual(report.inputs, 7)
        XCTAssertEqual(report.failed, 7)
        XCTAssertEqual(report.sources, 0)
        let manifest = try PipelineFixtures.manifest(in: dir)
        XCTAssertEqual(manifest.map(\.input), inputs.map(\.uri), "every input once, in order, whatever was claimed")
        XCTAssertEqual(manifest.map(\.catalog), inputs.indices.map { "f\($0).cat.fits" }, "catalog names are the driver's")
        for entry in manifest.prefix(6) {
            XCTAssertTrue(entry.error?.contains("invalid result from forger") ?? false, "\(entry)")
        }
        XCTAssertEqual(manifest.last?.error, "/data/f6.fits: bad", "an honest failed record is kept")
    }
}

/// One executor that answers every task with records of its own making.
final class ForgingBackend: ExecutorBackend, @unchecked Sendable {
    private let forge: (Int, InputFile) -> [ManifestEntry]
    private var events: BackendEvents?

    init(forge: @escaping (Int, InputFile) -> [ManifestEntry]) { self.forge = forge }

    func start(events: BackendEvents) {
        self.events = events
        events.executorAdded(ExecutorInfo(id: "forger", host: "forger", cores: 2))
    }

    func launch(_ task: TaskSpec, on executor: ExecutorID) {
        let input = try! JSONDecoder().decode(InputFile.self, from: Data(task.inputs[0].utf8))
        let records = forge(task.id.partition, input).map { try! JSONEncoder().encode($0) }
        let events = self.events
        DispatchQueue.global().async {
            events?.taskFinished(TaskResult(id: task.id, executor: executor, outcome: .success(records: records), duration: 0))
        }
    }

    func cancel(_ id: TaskAttemptID, on executor: ExecutorID) {}
    func stop() {}
}
