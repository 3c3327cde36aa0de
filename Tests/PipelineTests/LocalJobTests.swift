import Engine
import Extraction
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

final class LocalJobTests: XCTestCase {
    func testEveryInputEndsCommittedOrReportedAndBadOnesDoNotStopTheRest() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-bad")
        let frames = try PipelineFixtures.frames(3, in: dir.appendingPathComponent("in"))
        let bad = try PipelineFixtures.badInputs(in: dir, goodFrame: frames[0])
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
            + bad.values.sorted().map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path)))

        XCTAssertEqual(report.status, .completedWithFailures)
        XCTAssertEqual(report.committed, 3)
        XCTAssertEqual(report.failed, bad.count)
        let manifest = try PipelineFixtures.manifest(in: out)
        XCTAssertEqual(manifest.map(\.input), inputs.map(\.uri), "one manifest line per input, in input order")
        for (what, path) in bad {
            let entry = try XCTUnwrap(manifest.first { $0.input == path })
            XCTAssertEqual(entry.outcome, .failed, what)
            let error = try XCTUnwrap(entry.error, what)
            XCTAssertTrue(error.contains((path as NSString).lastPathComponent), "\(what): error names the file: \(error)")
            XCTAssertFalse(error.contains("\n"), "\(what): one line: \(error)")
            XCTAssertEqual(error.components(separatedBy: path).count, 2, "\(what): names the file once: \(error)")
            let summaryLine = try XCTUnwrap(report.failures.first { $0.contains(path) }, what)
            XCTAssertEqual(summaryLine, error, "\(what): the summary shows the manifest's line as is")
            XCTAssertEqual(entry.attempts, 1, "\(what): a bad input is not retried")
        }
        for entry in manifest where entry.outcome == .committed {
            let catalog = out.appendingPathComponent(try XCTUnwrap(entry.catalog))
            let bytes = try Data(contentsOf: catalog)
            XCTAssertEqual(bytes.count, entry.bytes)
            XCTAssertGreaterThan(entry.rows ?? 0, 20)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("_SUCCESS").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no temporary files left behind")
    }

    func testResumeSkipsCommittedCatalogsAndRecomputesOnlyWhatIsMissing() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-resume")
        let frames = try PipelineFixtures.frames(4, in: dir.appendingPathComponent("in"))
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path))
        _ = try PipelineFixtures.runLocal(spec)
        let first = try PipelineFixtures.manifest(in: out)
        let lost = out.appendingPathComponent(try XCTUnwrap(first[2].catalog))
        let original = try Data(contentsOf: lost)
        try FileManager.default.removeItem(at: lost)
        // A kept catalog that changed size since: its entry's bytes are what the listing says now.
        let grown = out.appendingPathComponent(try XCTUnwrap(first[1].catalog))
        let handle = try FileHandle(forWritingTo: grown)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("#".utf8))
        try handle.close()

        var resumed = spec
        resumed.resume = true
        let report = try PipelineFixtures.runLocal(resumed)
        XCTAssertEqual(report.committed, 1)
        XCTAssertEqual(report.skipped, 3)
        let second = try PipelineFixtures.manifest(in: out)
        XCTAssertEqual(second.map(\.outcome), [.skipped, .skipped, .committed, .skipped])
        XCTAssertEqual(second[0].sha256, first[0].sha256, "a skipped entry keeps the earlier checksum")
        XCTAssertEqual(second[0].rows, first[0].rows)
        XCTAssertEqual(second[1].bytes, try XCTUnwrap(first[1].bytes) + 1, "the listed size, not the earlier manifest's")
        XCTAssertEqual(try Data(contentsOf: lost), original, "the recomputed catalog is byte for byte the same")

        // A resume of a finished job writes the manifest and the frame table it found, byte for byte
        // (only the committed input of the run before becomes skipped, with attempts 0).
        _ = try PipelineFixtures.runLocal(resumed)
        let files = ["_manifest.jsonl", "_frames.csv", "_frames.fits"]
        let before = try files.map { try Data(contentsOf: out.appendingPathComponent($0)) }
        let again = try PipelineFixtures.runLocal(resumed)
        XCTAssertEqual(again.skipped, 4)
        XCTAssertEqual(try files.map { try Data(contentsOf: out.appendingPathComponent($0)) }, before)

        // Lines copied from the earlier manifest (all skipped now) still take the listed size.
        let regrown = try FileHandle(forWritingTo: grown)
        try regrown.seekToEnd()
        try regrown.write(contentsOf: Data("##".utf8))
        try regrown.close()
        _ = try PipelineFixtures.runLocal(resumed)
        let third = try PipelineFixtures.manifest(in: out)
        XCTAssertEqual(third[1].bytes, try XCTUnwrap(second[1].bytes) + 2)
        XCTAssertEqual(third.map(\.outcome), [.skipped, .skipped, .skipped, .skipped])
        XCTAssertEqual(third.map(\.sha256), second.map(\.sha256))
    }

    func testCatalogsAreTheSameWithOneSlotOrManyAndWithBigPartitions() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-slots")
        let frames = try PipelineFixtures.frames(6, in: dir.appendingPathComponent("in"), seed: 99)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        var checksums: [[String?]] = []
        for (slots, partitions) in [(1, nil), (2, nil), (2, 2) as (Int, Int?)] {
            let out = dir.appendingPathComponent("out-\(slots)-\(partitions ?? 0)")
            let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path), partitions: partitions)
            let report = try PipelineFixtures.runLocal(spec, slots: slots)
            XCTAssertEqual(report.status, .succeeded)
            checksums.append(try PipelineFixtures.manifest(in: out).map(\.sha256))
        }
        XCTAssertEqual(checksums[0], checksums[1])
        XCTAssertEqual(checksums[0], checksums[2])
        XCTAssertEqual(checksums[0].compactMap { $0 }.count, 6)
    }

    func testACatalogLostAfterItsCommitIsRecomputedFromItsInput() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-lineage")
        let frames = try PipelineFixtures.frames(3, in: dir.appendingPathComponent("in"), seed: 12)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        // The real operator, except that the first catalog of frame 1 is lost right after its
        // commit, as when the disk of the executor that held it dies.
        let lostOnce = Locked(false)
        let registry = OperatorRegistry()
        registry.register(ExtractOperator.name, input: InputFile.self, output: ManifestEntry.self) { files, context in
            let parameters = try JSONDecoder().decode(ExtractParameters.self, from: JSONEncoder().encode(
                ExtractParameters(output: out.path)))
            let entries = try ExtractOperator(parameters: parameters).apply(files, context: context)
            for entry in entries where entry.input == inputs[1].uri && !lostOnce.value {
                lostOnce.value = true
                try FileManager.default.removeItem(at: out.appendingPathComponent(entry.catalog!))
            }
            return entries
        }
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path)),
                                                   registry: registry)
        XCTAssertTrue(lostOnce.value)
        XCTAssertEqual(report.status, .succeeded)
        XCTAssertEqual(try PipelineFixtures.manifest(in: out).map(\.outcome), [.committed, .committed, .committed])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("frame-000001.cat.fits").path),
                      "the lost catalog was recomputed")
    }

    func testTasksThatLeaveTheProcessCarryNoSecrets() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-secrets")
        let inputs = [InputFile(uri: dir.appendingPathComponent("a.fits").path, relativePath: "a.fits")]
        let settings = ["sextant.s3.secretKey": "hush", "sextant.authenticate.secret": "hush too",
                        "sextant.s3.endpoint": "http://127.0.0.1:1"]
        for leave in [false, true] {
            let seen = Locked<[String: String]>([:])
            let registry = OperatorRegistry()
            registry.register(ExtractOperator.name, input: InputFile.self, output: ManifestEntry.self) { files, context in
                seen.value = context.settings
                return files.map { ManifestEntry(input: $0.uri, outcome: .failed, error: "not measured") }
            }
            let driver = ExtractionDriver(spec: JobSpec(inputs: inputs, parameters: ExtractParameters(
                output: dir.appendingPathComponent("out-\(leave)").path), settings: settings),
                engineSettings: EngineSettings())
            driver.tasksLeaveThisProcess = leave
            _ = try driver.run(backend: LocalBackend(registry: registry, slots: 1))
            // An executor's store settings are its own: a job cannot point them elsewhere (docs/SECURITY.md).
            XCTAssertEqual(seen.value["sextant.s3.endpoint"], leave ? nil : "http://127.0.0.1:1")
            XCTAssertEqual(seen.value["sextant.s3.secretKey"], leave ? nil : "hush")
            XCTAssertEqual(seen.value["sextant.authenticate.secret"], leave ? nil : "hush too")
        }
    }

    func testSerializedSEPFromConfGivesTheSameCatalogs() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-serialized")
        let frames = try PipelineFixtures.frames(4, in: dir.appendingPathComponent("in"), seed: 31)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        var checksums: [[String?]] = []
        for serialized in ["true", "false"] {
            let out = dir.appendingPathComponent("out-\(serialized)")
            // Process-wide: this process's own conf sets it, as `run` does, never a job's settings.
            try ExtractionDriver.applyProcessSettings(["sextant.extraction.serialized": serialized])
            let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path))
            XCTAssertEqual(try PipelineFixtures.runLocal(spec).status, .succeeded)
            XCTAssertEqual(SEPLibrary.shared.mode, serialized == "true" ? .serialized : .parallel)
            checksums.append(try PipelineFixtures.manifest(in: out).map(\.sha256))
        }
        XCTAssertEqual(checksums[0], checksums[1])
    }

    func testAJobsSettingsDoNotChangeProcessWideLimits() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-process-limits")
        let frames = try PipelineFixtures.frames(2, in: dir.appendingPathComponent("in"), seed: 5)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let library = SEPLibrary.shared
        let before = (stack: library.pixelStack, mode: library.mode, gate: LargeImageGate.shared.limits)
        // A job carrying other values (two jobs at once in one process would fight over them).
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: dir.appendingPathComponent("out").path),
                           settings: ["sextant.extraction.pixstack": "\(before.stack + 12345)",
                                      "sextant.extraction.serialized": before.mode == .serialized ? "false" : "true",
                                      "sextant.executor.largeImageSlots": "\(before.gate.slots + 5)",
                                      "sextant.executor.largeImageBytes": "1k"])
        XCTAssertEqual(try PipelineFixtures.runLocal(spec).status, .succeeded)
        XCTAssertEqual(library.pixelStack, before.stack)
        XCTAssertEqual(library.mode, before.mode)
        XCTAssertEqual(LargeImageGate.shared.limits.slots, before.gate.slots)
        XCTAssertEqual(LargeImageGate.shared.limits.threshold, before.gate.threshold)
    }

    func testFailFastStopsTheJobAndReportsWhatDidNotRun() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-failfast")
        let frames = try PipelineFixtures.frames(4, in: dir.appendingPathComponent("in"))
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let registry = OperatorRegistry()
        // An operator that throws on every input stands for an unreachable store.
        registry.register(ExtractOperator.name, input: InputFile.self, output: ManifestEntry.self) { _, _ in
            throw StoreDown()
        }
        var settings = EngineSettings()
        settings.failFast = true
        settings.maxFailures = 2
        let out = dir.appendingPathComponent("out")
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path)),
                                                   slots: 1, settings: settings, registry: registry)
        XCTAssertEqual(report.status, .failed, "fail-fast stopped it")
        let manifest = try PipelineFixtures.manifest(in: out)
        XCTAssertEqual(manifest.count, 4)
        XCTAssertTrue(manifest.contains { $0.outcome == .failed && $0.attempts == 2 && ($0.error ?? "").contains("store is down") })
        XCTAssertTrue(manifest.contains { $0.outcome == .notRun })
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("_SUCCESS").path))
    }

    struct StoreDown: Error, CustomStringConvertible {
        var description: String { "store is down" }
    }
}
