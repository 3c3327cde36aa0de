import Foundation
import TestSupport
import XCTest

/// Mutated FITS files (scripts/fuzz/make-fits-corpus.py: real images' headers and pixels,
/// truncated, bit-flipped, given huge sizes and bad BITPIX, compressed tables that lie) through
/// `sextant run --master local[2]`: the driver never dies, every input has exactly one manifest
/// line, and a worker that a crashing input takes down is counted. 300 files here (a few
/// seconds); `scripts/fuzz/fits FILES` runs thousands.
final class FITSFuzzTests: XCTestCase {
    private var count: Int { ProcessInfo.processInfo.environment["SEXTANT_FITS_FUZZ_FILES"].flatMap(Int.init) ?? 300 }
    private var seed: Int { ProcessInfo.processInfo.environment["SEXTANT_FITS_FUZZ_SEED"].flatMap(Int.init) ?? 1 }

    func testMutatedFITSFilesNeverKillTheDriverAndEveryInputIsAccountedFor() throws {
        let (dir, corpus, files) = try makeCorpus(count: count, label: "fits-fuzz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let started = Date()
        let run = try Sextant.run(["run", corpus.path, "--out", out.path, "--master", "local[2]", "--log-every", "100000",
                                   "--conf", "sextant.log.level=warning"])
        let seconds = Date().timeIntervalSince(started)
        // 0: all committed, 1: some failed. A signal (the driver died) or 2 (refused) is a defect.
        XCTAssertTrue([0, 1].contains(run.status), "driver exit \(run.status): \(run.stderr.suffix(2000))")
        let committed = try checkManifest(out, files: files)
        let deaths = Self.workerDeaths(in: run.stderr)
        print("fits-fuzz: local, seed \(seed), \(files.count) files, \(committed) committed, \(files.count - committed) failed,"
              + " \(deaths) worker deaths, 0 driver deaths, \(String(format: "%.1f", seconds)) s")
    }

    /// The same through a cluster: a master and two executor daemons as processes over TCP. The
    /// daemons run tasks in worker processes (the default), so the inputs that crash CFITSIO cost
    /// workers, never a daemon: the master and both executors are alive and registered at the end,
    /// and nobody re-registered. A third of the files by default (`SEXTANT_FITS_FUZZ_FILES` sets it).
    func testMutatedFITSFilesThroughAClusterNeverKillTheMasterOrAnExecutor() throws {
        let files = ProcessInfo.processInfo.environment["SEXTANT_FITS_FUZZ_FILES"] == nil ? 100 : count
        let (dir, corpus, names) = try makeCorpus(count: files, label: "fits-fuzz-cluster")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cluster = ClusterHarness(directory: dir)
        defer { cluster.shutDown() }
        try cluster.startMaster()
        for name in ["e1", "e2"] { try cluster.startExecutor(name) }
        try cluster.waitForExecutors(2)
        let out = dir.appendingPathComponent("out")
        let started = Date()
        let run = try cluster.client(["run", corpus.path, "--out", out.path, "--log-every", "100000"])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertTrue([0, 1].contains(run.status), "client exit \(run.status): \(run.stderr.suffix(2000))")
        let committed = try checkManifest(out, files: names)
        XCTAssertTrue(cluster.master?.isRunning == true, "the master is alive:\n\(cluster.log("master").suffix(3000))")
        for name in ["e1", "e2"] {
            XCTAssertTrue(cluster.executors[name]?.isRunning == true, "\(name) is alive:\n\(cluster.log(name).suffix(3000))")
        }
        let masterLog = cluster.log("master")
        XCTAssertFalse(masterLog.contains(" lost: "), "no executor was lost:\n\(masterLog.suffix(3000))")
        XCTAssertEqual(masterLog.components(separatedBy: " registered: ").count - 1, 2, "nobody re-registered")
        let deaths = ["e1", "e2"].map { cluster.log($0).components(separatedBy: " lost: worker process").count - 1 }.reduce(0, +)
        print("fits-fuzz: cluster, seed \(seed), \(names.count) files, \(committed) committed, \(names.count - committed) failed,"
              + " \(deaths) worker deaths, 0 master or executor deaths, \(String(format: "%.1f", seconds)) s")
    }

    /// The libFuzzer harness over the FITS reading path (scripts/fuzz/fits-libfuzzer, ASan on),
    /// short form: its fixed corpus (the seeds and every earlier finding) and 600 mutations of
    /// libFuzzer seed 1. Any crash, overflow, leak or oversized allocation fails it. The harness is
    /// built once per change of the FITS sources (about 15 s of CPU), then cached in .build/fuzz.
    func testTheLibFuzzerHarnessFindsNothingInItsFixedCorpusAndAShortRun() throws {
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/fuzz/fits-libfuzzer").path
        let run = try TestSupport.run("/bin/bash", [script, "--quick"])
        XCTAssertEqual(run.status, 0, "a finding (or the harness did not build):\n\(run.stderr.suffix(4000))")
        let executed = run.stderr.split(separator: "\n").first { $0.hasPrefix("stat::number_of_executed_units:") }
        let units = executed.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
        XCTAssertGreaterThanOrEqual(units, 600, run.stderr.suffix(2000).description)
        print("fits-libfuzzer: quick, \(units) inputs, no finding")
    }

    /// `count` mutated files of seed `seed` in a new directory: (the directory, the corpus, its file names).
    private func makeCorpus(count: Int, label: String) throws -> (URL, URL, [String]) {
        let dir = try TestSupport.makeTemporaryDirectory(label)
        let corpus = dir.appendingPathComponent("corpus")
        let generator = TestSupport.repoRoot.appendingPathComponent("scripts/fuzz/make-fits-corpus.py").path
        let made = try TestSupport.run(TestSupport.systemPython,
                                       [generator, corpus.path, "\(count)", "\(seed)"] + (try seedImages(in: dir)))
        XCTAssertEqual(made.status, 0, made.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertEqual(files.count, count)
        return (dir, corpus, files)
    }

    /// Every input exactly once, committed (with its catalog) or failed with a one-line reason,
    /// and `_SUCCESS`; returns how many committed.
    private func checkManifest(_ out: URL, files: [String]) throws -> Int {
        let manifest = try ChaosCheck.manifest(in: out)
        var seen: [String: Int] = [:]
        for entry in manifest {
            let name = URL(fileURLWithPath: entry["input"] as? String ?? "").lastPathComponent
            seen[name, default: 0] += 1
            let outcome = entry["outcome"] as? String
            XCTAssertTrue(outcome == "committed" || outcome == "failed", "\(name): \(outcome ?? "?")")
            if outcome == "failed" {
                let error = entry["error"] as? String ?? ""
                XCTAssertFalse(error.isEmpty || error.contains("\n"), "\(name): one-line reason: \(error)")
            }
        }
        XCTAssertEqual(Set(seen.keys), Set(files), "every input has its manifest line")
        XCTAssertEqual(seen.values.filter { $0 != 1 }.count, 0, "no input twice")
        let committed = manifest.filter { $0["outcome"] as? String == "committed" }.count
        XCTAssertEqual(ChaosCheck.catalogCount(out), committed)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("_SUCCESS").path))
        return committed
    }

    /// Real images when the shared data is there, else generated SDSS-like frames.
    private func seedImages(in dir: URL) throws -> [String] {
        let real = ["image.fits", "m51_skimage.fits"].compactMap { TestSupport.dataFile($0)?.path }
        if !real.isEmpty { return real }
        let frames = dir.appendingPathComponent("seeds")
        try Sextant.generate("small", count: 2, into: frames)
        return try FileManager.default.contentsOfDirectory(atPath: frames.path).map { frames.appendingPathComponent($0).path }
    }

    /// From the driver's closing line "sextant: N worker processes died during the job".
    static func workerDeaths(in stderr: String) -> Int {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("died during the job") }) else { return 0 }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    }
}
