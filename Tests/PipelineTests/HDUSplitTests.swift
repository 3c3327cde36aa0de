import Engine
import Extraction
import FITS
import Hashing
import Foundation
import Pipeline
import Storage
import TestSupport
import XCTest

/// A multi-extension file with more image HDUs than `sextant.extract.splitHDUsAbove` is split by
/// the task that opens it: one task and one catalog per HDU, each equal to that HDU extracted alone,
/// with retries, resume and verify working per HDU.
final class HDUSplitTests: XCTestCase {
    static let ccds = 8

    /// An empty primary and `count` named image extensions of small generated CCDs (astropy writes it).
    static func mosaic(_ count: Int, in directory: URL, name: String = "mosaic.fits",
                       width: Int = 256, height: Int = 192) throws -> String {
        let frames = directory.appendingPathComponent("ccds-\(name)")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        let ccds = try (0..<count).map { index -> String in
            let path = frames.appendingPathComponent("ccd\(index).fits").path
            let recipe = FrameRecipe(width: width, height: height, seed: 70 + UInt64(index))
            try FITSImageWriter(width: width, height: height, pixels: .float32(SyntheticFrame.render(recipe)),
                                keywords: []).write(to: path)
            return path
        }
        let mef = directory.appendingPathComponent(name).path
        _ = try python("""
            import sys
            from astropy.io import fits
            hdus = [fits.PrimaryHDU()]
            for i, path in enumerate(sys.argv[2:]):
                hdus.append(fits.ImageHDU(fits.getdata(path), name='CCD%d' % (i + 1)))
            fits.HDUList(hdus).writeto(sys.argv[1])
            print('{}')
            """, arguments: [mef] + ccds)
        try FileManager.default.removeItem(at: frames)
        return mef
    }

    private func spec(_ mef: String, out: URL, resume: Bool = false, splitAbove: String = "2",
                      hdu: String = "") -> JobSpec {
        JobSpec(inputs: [InputFile(uri: mef, relativePath: "mosaic.fits")],
                parameters: ExtractParameters(output: out.path, hdu: HDUChoice(hdu)), resume: resume,
                settings: ["sextant.extract.splitHDUsAbove": splitAbove])
    }

    private func run(_ spec: JobSpec, registry: OperatorRegistry? = nil) throws -> (JobReport, TaskLog) {
        let registry = registry ?? {
            let registry = OperatorRegistry()
            ExtractionDriver.registerOperators(in: registry)
            return registry
        }()
        let log = TaskLog()
        let driver = ExtractionDriver(spec: spec, engineSettings: EngineSettings())
        driver.listeners = [log]
        let report = try driver.run(backend: LocalBackend(registry: registry, slots: 2))
        return (report, log)
    }

    func testEightCCDFileGivesOneTaskAndOneCatalogPerHDUEachEqualToThatHDUAlone() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-split")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mef = try Self.mosaic(Self.ccds, in: directory)
        let out = directory.appendingPathComponent("out")
        let (report, log) = try run(spec(mef, out: out))
        XCTAssertEqual(report.committed, 1, "\(report.failures)")

        // Planned as one task (no header read at plan time); the task that opened it handed back 8.
        XCTAssertEqual(log.plannedPartitions, [1])
        XCTAssertEqual(log.succeeded.count, 1 + Self.ccds)
        XCTAssertEqual(Set(log.succeeded.map(\.origin)), [0], "every HDU task descends from the file's task")

        let entry = try XCTUnwrap(PipelineFixtures.manifest(in: out).first)
        XCTAssertEqual(entry.outcome, .committed, entry.error ?? "")
        XCTAssertEqual(entry.split, true)
        let names = (1...Self.ccds).map { "mosaic.hdu\($0).cat.fits" }
        XCTAssertEqual(entry.outputs, names)
        XCTAssertEqual(entry.catalog, names[0])
        XCTAssertEqual(entry.hdus?.map(\.hdu), Array(1...Self.ccds))
        XCTAssertEqual(entry.hdus?.map(\.extname), (1...Self.ccds).map { "CCD\($0)" })
        XCTAssertEqual(entry.hdus?.compactMap(\.catalog), names)
        XCTAssertEqual(entry.rows, entry.hdus?.compactMap(\.rows).reduce(0, +))
        XCTAssertEqual(entry.frames?.count, Self.ccds)
        XCTAssertNil(entry.splitParts)
        // Each HDU's task records the file's digest as the file's task computed it (hashed once, not 8 times).
        XCTAssertEqual(entry.provenance?.inputSHA256, Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: mef))).hexString)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("mosaic.cat.fits").path))

        // Each HDU's catalog has the rows of that HDU extracted alone with --hdu N.
        var alone: [String] = []
        for hdu in [1, 4, 8] {
            let single = directory.appendingPathComponent("hdu\(hdu)")
            let (one, singleLog) = try run(spec(mef, out: single, hdu: "\(hdu)"))
            XCTAssertEqual(one.committed, 1)
            XCTAssertEqual(singleLog.succeeded.count, 1, "--hdu never splits")
            let onlyEntry = try XCTUnwrap(PipelineFixtures.manifest(in: single).first)
            XCTAssertEqual(onlyEntry.rows, entry.hdus?[hdu - 1].rows)
            XCTAssertGreaterThan(onlyEntry.rows ?? 0, 0)
            alone.append(single.appendingPathComponent("mosaic.cat.fits").path)
        }
        let same = try python("""
            import json, sys
            from astropy.io import fits
            out, alone = sys.argv[1], sys.argv[2:]
            same = []
            for hdu, path in zip([1, 4, 8], alone):
                a, b = fits.open('%s/mosaic.hdu%d.cat.fits' % (out, hdu))[1], fits.open(path)[1]
                same.append(a.header['INHDU'] == hdu and a.data.tobytes() == b.data.tobytes() and len(a.data) > 0)
            print(json.dumps({'same': same}))
            """, arguments: [out.path] + alone)
        XCTAssertEqual(same["same"] as? [Bool], [true, true, true])

        // verify remakes every HDU's catalog byte for byte.
        let verified = try Verifier(record: JobRecord.load(output: out.path, settings: [:]), settings: [:]).run()
        XCTAssertEqual(verified.checked, 1)
        XCTAssertEqual(verified.findings.map(\.detail), [])
        try FileManager.default.removeItem(at: out.appendingPathComponent("mosaic.hdu3.cat.fits"))
        let broken = try Verifier(record: JobRecord.load(output: out.path, settings: [:]), settings: [:]).run()
        XCTAssertEqual(broken.findings.map(\.detail), ["its catalog mosaic.hdu3.cat.fits is missing"])
    }

    func testAFailedHDUTaskIsRetriedAloneAndResumeRedoesOnlyTheMissingHDU() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-split-retry")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mef = try Self.mosaic(Self.ccds, in: directory)
        let out = directory.appendingPathComponent("out")
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        registry.register(FailingOnceExtract.self)  // replaces sextant.extract: HDU 5's first attempt throws
        FailingOnceExtract.failures.update { $0 = 0 }
        let (report, log) = try run(spec(mef, out: out), registry: registry)
        XCTAssertEqual(report.committed, 1, "\(report.failures)")
        XCTAssertEqual(FailingOnceExtract.failures.value, 2, "HDU 5 ran twice: failed, then retried")
        XCTAssertEqual(log.failed.count, 1)
        // Only HDU 5's task ran twice: the file's task and the other HDUs' once each.
        XCTAssertEqual(log.started.count, 1 + Self.ccds + 1)
        let failedPartition = try XCTUnwrap(log.failed.first)
        XCTAssertEqual(log.started.filter { $0 == failedPartition }.count, 2)
        let entry = try XCTUnwrap(PipelineFixtures.manifest(in: out).first)
        XCTAssertEqual(entry.outcome, .committed, entry.error ?? "")
        XCTAssertEqual(entry.attempts, 2)
        let digests = entry.hdus?.map(\.sha256)

        // Resume after deleting HDU 6's catalog: only HDU 6 is extracted again.
        let sixth = out.appendingPathComponent("mosaic.hdu6.cat.fits")
        let before = try Data(contentsOf: sixth)
        try FileManager.default.removeItem(at: sixth)
        let (resumed, resumedLog) = try run(spec(mef, out: out, resume: true))
        XCTAssertEqual(resumed.committed, 1, "\(resumed.failures)")
        XCTAssertEqual(resumedLog.succeeded.count, 2, "the file's task (reads headers only) and HDU 6's")
        XCTAssertEqual(try Data(contentsOf: sixth), before)
        let again = try XCTUnwrap(PipelineFixtures.manifest(in: out).first)
        XCTAssertEqual(again.outcome, .committed)
        XCTAssertEqual(again.hdus?.map(\.sha256), digests, "kept HDUs keep the earlier run's digests")
        XCTAssertEqual(again.rows, entry.rows)
        let verified = try Verifier(record: JobRecord.load(output: out.path, settings: [:]), settings: [:]).run()
        XCTAssertEqual(verified.findings.map(\.detail), [])

        // Resume with nothing missing: every HDU kept, none extracted.
        let (idle, idleLog) = try run(spec(mef, out: out, resume: true))
        XCTAssertEqual(idle.skipped, 1)
        XCTAssertEqual(idleLog.succeeded.count, 1)
    }

    func testBelowTheThresholdOrForLDACTheFileStaysOneTask() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-split-below")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mef = try Self.mosaic(3, in: directory)
        let (kept, keptLog) = try run(spec(mef, out: directory.appendingPathComponent("a"), splitAbove: "4"))
        XCTAssertEqual(kept.committed, 1)
        XCTAssertEqual(keptLog.succeeded.count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("a/mosaic.cat.fits").path))

        var ldac = spec(mef, out: directory.appendingPathComponent("b"), splitAbove: "1")
        ldac.parameters.format = .ldac
        let (one, ldacLog) = try run(ldac)
        XCTAssertEqual(one.committed, 1)
        XCTAssertEqual(ldacLog.succeeded.count, 1, "an LDAC file holds every HDU: never split")
        let entry = try XCTUnwrap(PipelineFixtures.manifest(in: directory.appendingPathComponent("b")).first)
        XCTAssertEqual(entry.catalog, "mosaic.ldac.fits")
        XCTAssertNil(entry.split)
    }
}

private func python(_ script: String, arguments: [String]) throws -> [String: Any] {
    let output = try TestSupport.run(TestSupport.systemPython, ["-c", script] + arguments)
    guard output.status == 0 else { throw TestSupportError.commandFailed("python: \(output.stderr)") }
    return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
}

/// The extract operator, except that the first attempt at HDU 5 of a split file fails as a store
/// that does not answer would (a retryable error).
private struct FailingOnceExtract: PartitionOperator {
    typealias Parameters = ExtractParameters
    static let name = ExtractOperator.name
    /// Attempts at HDU 5 so far; the first throws.
    static let failures = Locked(0)
    private let base: ExtractOperator

    init(parameters: ExtractParameters) throws {
        base = try ExtractOperator(parameters: parameters)
    }

    func apply(_ inputs: [InputFile], context: TaskContext) throws -> [ManifestEntry] {
        if inputs.contains(where: { $0.hdu == 5 }), Self.failures.mutate({ count in
            defer { count += 1 }
            return count == 0
        }) {
            throw StorageError(.transport, location: inputs[0].uri, message: "injected: the store did not answer")
        }
        return try base.apply(inputs, context: context)
    }
}

/// The scheduler's events of one run, for counting tasks.
private final class TaskLog: JobListener, @unchecked Sendable {
    private let lock = NSLock()
    private var planned: [Int] = []
    private var starts: [Int] = []
    private var successes: [(partition: Int, origin: Int?)] = []
    private var failures: [Int] = []

    var plannedPartitions: [Int] { lock.withLock { planned } }
    var started: [Int] { lock.withLock { starts } }
    var succeeded: [(partition: Int, origin: Int?)] { lock.withLock { successes } }
    var failed: [Int] { lock.withLock { failures } }

    func jobStarted(_ event: JobStartEvent) { lock.withLock { planned.append(event.partitions) } }
    func taskStarted(_ event: TaskStartEvent) { lock.withLock { starts.append(event.attempt.partition) } }
    func taskEnded(_ event: TaskEndEvent) {
        lock.withLock {
            switch event.outcome {
            case .succeeded: successes.append((event.attempt.partition, event.origin))
            case .failed: failures.append(event.attempt.partition)
            default: break
            }
        }
    }
}
