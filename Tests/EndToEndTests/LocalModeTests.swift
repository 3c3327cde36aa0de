import Foundation
import TestSupport
import XCTest

final class LocalModeTests: XCTestCase {
    func testRunCatalogsEqualExtractCatalogsByteForByte() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-local")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 4, into: frames)
        var inputs = [frames.path]
        if let real = TestSupport.dataFile("image.fits") { inputs.append(real.path) }

        let extracted = try Sextant.run(["extract"] + inputs + ["--out", dir.appendingPathComponent("extract").path])
        XCTAssertEqual(extracted.status, 0, extracted.stderr)
        let ran = try Sextant.run(["run"] + inputs + ["--out", dir.appendingPathComponent("run").path, "--master", "local[2]"])
        XCTAssertEqual(ran.status, 0, ran.stderr)
        XCTAssertTrue(ran.stdout.contains("succeeded"), ran.stdout)

        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("extract").path).sorted()
        XCTAssertEqual(names.count, inputs.count == 2 ? 5 : 4)
        for name in names {
            let a = try Data(contentsOf: dir.appendingPathComponent("extract/\(name)"))
            let b = try Data(contentsOf: dir.appendingPathComponent("run/\(name)"))
            XCTAssertEqual(a, b, "\(name) differs between extract and run")
        }
        // CFITSIO's own checker agrees the catalog is valid FITS, where it is installed.
        if FileManager.default.fileExists(atPath: "/usr/bin/fitsverify") {
            let verify = try TestSupport.run("/usr/bin/fitsverify", ["-q", dir.appendingPathComponent("run/\(names[0])").path])
            XCTAssertTrue(verify.stdout.contains("OK"), verify.stdout + verify.stderr)
        }
    }

    func testBadInputsGiveOneLineErrorsAndTheGoodOnesStillGetCatalogs() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-bad")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 2, into: frames)
        let notFITS = dir.appendingPathComponent("readme.fits")
        try Data("hello".utf8).write(to: notFITS)
        let missing = dir.appendingPathComponent("absent.fits").path
        let out = dir.appendingPathComponent("out")

        let result = try Sextant.run(["extract", frames.path, notFITS.path, "--out", out.path])
        XCTAssertEqual(result.status, 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("sextant:") }
        XCTAssertEqual(errors.count, 1, result.stderr)
        XCTAssertTrue(errors[0].contains("readme.fits"), String(errors[0]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".cat.fits") }.count, 2)

        let run = try Sextant.run(["run", frames.path, notFITS.path, "--out", dir.appendingPathComponent("run").path])
        XCTAssertEqual(run.status, 1, "some inputs failed")
        XCTAssertTrue(run.stdout.contains("readme.fits"), run.stdout)

        let absent = try Sextant.run(["run", missing, "--out", dir.appendingPathComponent("run2").path])
        XCTAssertEqual(absent.status, 2, "a named input that does not exist stops the job before it starts")
        XCTAssertTrue(absent.stderr.contains("absent.fits: no such file or directory"), absent.stderr)
    }

    func testInterruptLeavesNoHalfWrittenCatalogAndResumeFinishes() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-interrupt")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 16, into: frames)
        let out = dir.appendingPathComponent("out")
        // Each input takes at least 0.2 s (the test operators' delay), so 16 on one slot cannot
        // finish before the interrupt lands: the test never has to skip.
        let process = try Sextant.start(["run", frames.path, "--out", out.path, "--master", "local[1]"],
                                        logTo: dir.appendingPathComponent("run.log"),
                                        environment: ["SEXTANT_TEST_OPERATORS": "1", "SEXTANT_CHAOS_TASK_DELAY": "0.2"])
        // Interrupt once the first catalogs exist.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let done = (try? FileManager.default.contentsOfDirectory(atPath: out.path))?.filter { $0.hasSuffix(".cat.fits") } ?? []
            if done.count >= 2 { break }
            usleep(20_000)
        }
        let status = TestSupport.stop(process, signal: SIGINT, timeout: 60)
        let log = try String(contentsOf: dir.appendingPathComponent("run.log"), encoding: .utf8)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertEqual(status, 130, log)
        XCTAssertFalse(names.contains("_SUCCESS"))
        XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [], "no temporary files")
        let manifest = try String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"not-run\""), manifest)

        let resumed = try Sextant.run(["run", frames.path, "--out", out.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let lines = try String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(lines.count, 16)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"committed\"") || $0.contains("\"skipped\"") })
        XCTAssertTrue(lines.contains { $0.contains("\"skipped\"") })
    }

    func testDryRunPlansWithoutTouchingFiles() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-dry")
        let list = dir.appendingPathComponent("names.txt")
        try (0..<10_000).map { "/nowhere/frame-\($0).fits" }.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let result = try Sextant.run(["run", "@" + list.path, "--out", dir.path, "--dry-run"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("10000 inputs in 10000 tasks"), result.stdout)
    }
}

/// Column choice from the command line: a .param file, --columns, and an unknown name.
final class ColumnFlagTests: XCTestCase {
    func testColumnsAndParamFileChooseTheCatalogColumnsAndUnknownNamesAreRefused() throws {
        let dir = try TestSupport.makeTemporaryDirectory("sextant-columns-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 1, into: frames)
        let param = dir.appendingPathComponent("mine.param")
        try "NUMBER\nX_IMAGE  # a comment\nY_IMAGE\nMAG_APER(1)\n".write(to: param, atomically: true, encoding: .utf8)

        let fromParam = try Sextant.run(["extract", frames.path, "--out", dir.appendingPathComponent("p").path,
                                         "--format", "csv", "--param", param.path, "--zeropoint", "25"])
        XCTAssertEqual(fromParam.status, 0, fromParam.stderr)
        let csv = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("p").path).first)
        let header = try String(contentsOf: dir.appendingPathComponent("p/\(csv)"), encoding: .utf8).split(separator: "\n")[0]
        XCTAssertEqual(header, "NUMBER,X_IMAGE,Y_IMAGE,MAG_APER_1")

        let listed = try Sextant.run(["extract", frames.path, "--out", dir.appendingPathComponent("c").path,
                                      "--format", "csv", "--columns", "X_IMAGE,FLUX_APER(1)", "--param", param.path])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let other = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("c").path).first)
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("c/\(other)"), encoding: .utf8)
            .hasPrefix("X_IMAGE,FLUX_APER_1\n"), "--columns wins over --param")

        let unknown = try Sextant.run(["extract", frames.path, "--out", dir.appendingPathComponent("u").path,
                                       "--columns", "NUMBER,MAG_BEST"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown column MAG_BEST; valid columns: NUMBER, X_IMAGE"), unknown.stderr)
    }
}
