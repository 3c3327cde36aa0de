import Foundation
import TestSupport
import XCTest

/// Hostile inputs through `sextant run`: each fails alone with one line naming it, the job
/// finishes, and every good input is committed.
final class HostileInputTests: XCTestCase {
    func testHeadersThatLieAboutTheirSizeFailAloneInLocalMode() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-hostile")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 2, into: frames)
        let hostile = [
            "overflow.fits": HostileFITS.image(width: 1 << 32, height: 1 << 32),  // was SIGILL
            "huge.fits": HostileFITS.image(width: 200_000, height: 200_000),      // was SIGABRT
            "short.fits": HostileFITS.image(width: 10_000, height: 10_000),
        ]
        for (name, bytes) in hostile { try bytes.write(to: frames.appendingPathComponent(name)) }
        let out = dir.appendingPathComponent("out")

        let run = try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]"])
        XCTAssertEqual(run.status, 1, "some inputs failed, the job finished: \(run.stderr)")
        let manifest = try ChaosCheck.manifest(in: out)
        XCTAssertEqual(manifest.count, 5, "every input has its line")
        let failed = manifest.filter { $0["outcome"] as? String == "failed" }
        XCTAssertEqual(Set(failed.map { URL(fileURLWithPath: $0["input"] as? String ?? "").lastPathComponent }),
                       Set(hostile.keys))
        for entry in failed {
            let error = entry["error"] as? String ?? ""
            let name = URL(fileURLWithPath: entry["input"] as? String ?? "").lastPathComponent
            XCTAssertFalse(error.contains("\n"), error)
            XCTAssertEqual(error.components(separatedBy: name).count - 1, 1, "names the file once: \(error)")
            XCTAssertTrue(error.contains(name == "short.fits" ? "truncated file" : "sextant.input.maxPixels"), error)
        }
        for name in hostile.keys {
            let lines = run.stdout.split(separator: "\n").filter { $0.contains(name) }
            XCTAssertEqual(lines.count, 1, run.stdout)
            XCTAssertEqual(lines.first?.components(separatedBy: name).count, 2, "the summary names \(name) once: \(run.stdout)")
        }
        XCTAssertEqual(manifest.filter { $0["outcome"] as? String == "committed" }.count, 2)
        XCTAssertEqual(ChaosCheck.catalogCount(out), 2)

        // A lower cap, from conf, turns the good frames away too.
        let capped = try Sextant.run(["run", frames.path, "--out", dir.appendingPathComponent("capped").path,
                                      "--master", "local[2]", "--conf", "sextant.input.maxPixels=1000"])
        XCTAssertEqual(capped.status, 1, capped.stderr)
        let cappedManifest = try ChaosCheck.manifest(in: dir.appendingPathComponent("capped"))
        XCTAssertEqual(cappedManifest.filter { $0["outcome"] as? String == "failed" }.count, 5)
    }

    func testUnsafeAndCollidingNamesAreRefusedBeforeTheJob() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-names")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 1, into: frames)
        let good = try FileManager.default.contentsOfDirectory(atPath: frames.path).first { $0.hasSuffix(".fits") } ?? ""
        let cases: [(name: String, expected: String)] = [
            (good.uppercased(), "would both write the catalog"),
            ((good as NSString).deletingPathExtension + ".fz", "would both write the catalog"),
            ("evil\nline.fits", "control character U+000A"),
            ("_SUCCESS.fits", "reserved for the job's own files"),
        ]
        for (name, expected) in cases {
            let extra = frames.appendingPathComponent(name)
            try FileManager.default.copyItem(at: frames.appendingPathComponent(good), to: extra)
            defer { try? FileManager.default.removeItem(at: extra) }
            let out = dir.appendingPathComponent("out")
            let run = try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]"])
            XCTAssertEqual(run.status, 2, "\(name): refused before the job: \(run.stdout) \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(expected), "\(name): \(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("_manifest.jsonl").path))
        }
    }

    /// A task that aborts its process (as a native crash in SEP or CFITSIO would; the test-only
    /// chaos operator does it for inputs named *crash*) takes down only its worker: it is retried
    /// up to maxFailures times, then reported failed, and every other input is committed.
    func testANativeCrashInOneTaskLosesOnlyThatInputInLocalMode() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-isolation")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 4, into: frames)
        let good = try FileManager.default.contentsOfDirectory(atPath: frames.path).filter { $0.hasSuffix(".fits") }.sorted()
        try FileManager.default.copyItem(at: frames.appendingPathComponent(good[0]), to: frames.appendingPathComponent("crash-me.fits"))
        let chaos = ["SEXTANT_TEST_OPERATORS": "1"]
        let out = dir.appendingPathComponent("out")

        let run = try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]",
                                   "--conf", "sextant.task.maxFailures=3"], environment: chaos)
        XCTAssertEqual(run.status, 1, "the job finished with one failure: \(run.stderr)")
        let manifest = try ChaosCheck.manifest(in: out)
        XCTAssertEqual(manifest.count, 5)
        let crashed = manifest.first { ($0["input"] as? String)?.hasSuffix("crash-me.fits") == true }
        XCTAssertEqual(crashed?["outcome"] as? String, "failed")
        XCTAssertEqual(crashed?["attempts"] as? Int, 3)
        XCTAssertTrue((crashed?["error"] as? String)?.contains("signal 6 (SIGABRT)") == true, "\(crashed ?? [:])")
        XCTAssertEqual(manifest.filter { $0["outcome"] as? String == "committed" }.count, 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("_SUCCESS").path))
        XCTAssertTrue(run.stderr.contains("3 worker processes died during the job"), run.stderr)

        // The same crash on a thread of the driver takes the whole job with it: no manifest.
        let inProcess = dir.appendingPathComponent("in-process")
        let unisolated = try Sextant.run(["run", frames.path, "--out", inProcess.path, "--master", "local[2]",
                                          "--conf", "sextant.local.isolation=false"],
                                         environment: chaos.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 })
        XCTAssertNotEqual(unisolated.status, 0)
        XCTAssertNotEqual(unisolated.status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: inProcess.appendingPathComponent("_manifest.jsonl").path))
    }

    /// A real one, found by the fuzz run: ZTILE1 = 0 in a tile-compressed image makes CFITSIO
    /// divide by zero while it opens the HDU (SIGFPE). The raw header walk refuses it first, so
    /// the input fails at once with its reason and no worker dies.
    func testAFileThatWouldCrashCFITSIOFailsWithItsReasonAndNoWorkerDies() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-sigfpe")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 2, into: frames)
        _ = try TestSupport.python("""
            import sys, io, numpy as np
            from astropy.io import fits
            buffer = io.BytesIO()
            fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(np.ones((32, 32), np.float32))]).writeto(buffer)
            raw = bytearray(buffer.getvalue())
            at = raw.index(b'ZTILE1  =')
            raw[at:at + 80] = ('ZTILE1  = %20d' % 0).ljust(80).encode()
            open(sys.argv[1], 'wb').write(raw)
            """, arguments: [frames.appendingPathComponent("zero-tile.fz").path])
        let out = dir.appendingPathComponent("out")
        let run = try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]",
                                   "--conf", "sextant.task.maxFailures=2"])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertFalse(run.stderr.contains("worker process"), "no worker died: \(run.stderr)")
        let manifest = try ChaosCheck.manifest(in: out)
        let refused = manifest.first { ($0["input"] as? String)?.hasSuffix("zero-tile.fz") == true }
        XCTAssertTrue((refused?["error"] as? String)?.contains("HDU 1 has ZTILE1 = 0") == true, "\(refused ?? [:])")
        XCTAssertEqual(manifest.filter { $0["outcome"] as? String == "committed" }.count, 2)
    }
}
