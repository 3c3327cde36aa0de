import Foundation
import TestSupport
import XCTest

/// Mutated FITS files (scripts/fuzz/make-fits-corpus.py: real images' headers and pixels,
/// truncated, bit-flipped, given huge sizes and bad BITPIX, compressed tables that lie) through
/// `sextant run --master local[2]`: the driver never dies, every input has exactly one manifest
/// line, and a worker that a crashing input takes down is counted. 300 files here (a few
/// seconds); `scripts/fuzz/fits FILES` runs thousands.
final class FITSFuzzTests: XCTestCase {
    func testMutatedFITSFilesNeverKillTheDriverAndEveryInputIsAccountedFor() throws {
        let environment = ProcessInfo.processInfo.environment
        let count = environment["SEXTANT_FITS_FUZZ_FILES"].flatMap(Int.init) ?? 300
        let seed = environment["SEXTANT_FITS_FUZZ_SEED"].flatMap(Int.init) ?? 1
        let dir = try TestSupport.makeTemporaryDirectory("fits-fuzz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("corpus")
        let generator = TestSupport.repoRoot.appendingPathComponent("scripts/fuzz/make-fits-corpus.py").path
        let made = try TestSupport.run(TestSupport.systemPython,
                                       [generator, corpus.path, "\(count)", "\(seed)"] + (try seedImages(in: dir)))
        XCTAssertEqual(made.status, 0, made.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertEqual(files.count, count)

        let out = dir.appendingPathComponent("out")
        let started = Date()
        let run = try Sextant.run(["run", corpus.path, "--out", out.path, "--master", "local[2]", "--log-every", "100000",
                                   "--conf", "sextant.log.level=warning"])
        let seconds = Date().timeIntervalSince(started)
        // 0: all committed, 1: some failed. A signal (the driver died) or 2 (refused) is a defect.
        XCTAssertTrue([0, 1].contains(run.status), "driver exit \(run.status): \(run.stderr.suffix(2000))")

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
        let deaths = Self.workerDeaths(in: run.stderr)
        print("fits-fuzz: seed \(seed), \(count) files, \(committed) committed, \(count - committed) failed,"
              + " \(deaths) worker deaths, 0 driver deaths, \(String(format: "%.1f", seconds)) s")
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
