import Engine
import Foundation
import Pipeline
import TestSupport
import XCTest

/// Names that could write outside the output, over the job's own files, or over another
/// input's catalog are refused before the job starts, with the reason.
final class InputNameTests: XCTestCase {
    private func refusal(_ inputs: [InputFile]) -> String? {
        do {
            try InputNames.validate(inputs)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testUnsafeRelativePathsAreRefused() {
        let cases: [(String, String)] = [
            ("../../etc/x.fits", "'..' segment"), ("a/../x.fits", "'..' segment"), ("./x.fits", "'.' or '..' segment"),
            ("/etc/x.fits", "absolute"), ("", "empty"), ("a//x.fits", "empty, '.' or '..' segment"),
            ("bad\nname.fits", "control character U+000A"), ("nul\u{0}.fits", "control character U+0000"),
            ("esc\u{1b}[2J.fits", "control character U+001B"),
            ("_manifest.jsonl", "reserved"), ("_SUCCESS.fits", "reserved"), ("_x.fits", "reserved"),
        ]
        for (path, reason) in cases {
            let message = refusal([InputFile(uri: "/data/in.fits", relativePath: path)])
            XCTAssertNotNil(message, path)
            XCTAssertTrue(message?.contains(reason) == true, "\(path): \(message ?? "accepted")")
            XCTAssertFalse(message?.contains("\n") == true, "one line: \(message ?? "")")
        }
        XCTAssertTrue(refusal([InputFile(uri: "/data/a\u{7}.fits", relativePath: "a.fits")])?.contains("U+0007") == true)
        // A reserved prefix below the top level names no job file; it is fine.
        XCTAssertNil(refusal([InputFile(uri: "/d/sub/_x.fits", relativePath: "sub/_x.fits")]))
        XCTAssertNil(refusal([InputFile(uri: "/d/a b.fits", relativePath: "night 1/a b.fits")]))
    }

    func testNamesThatCollideOnceTheSuffixIsDroppedAreRefused() {
        for (a, b) in [("x.fits", "x.fz"), ("X.FITS", "X.fits"), ("x.fits", "X.fits.gz"), ("d/x.fit", "D/x.fts")] {
            let message = refusal([InputFile(uri: "/one/" + a, relativePath: a), InputFile(uri: "/two/" + b, relativePath: b)])
            XCTAssertTrue(message?.contains("would both write the catalog") == true, "\(a) + \(b): \(message ?? "accepted")")
        }
        XCTAssertNil(refusal([InputFile(uri: "/one/x.fits", relativePath: "x.fits"), InputFile(uri: "/one/x.fits", relativePath: "x.fits")]),
                     "the same file twice is one input")
        XCTAssertNil(refusal([InputFile(uri: "/one/x.fits", relativePath: "x.fits"), InputFile(uri: "/one/y.fits", relativePath: "y.fits")]))
    }

    func testListingRefusesCollisionsAndTheDriverRefusesASubmittedEscape() throws {
        let dir = try TestSupport.makeTemporaryDirectory("input-names")
        for name in ["x.fits", "x.fz"] {
            FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data("x".utf8))
        }
        XCTAssertThrowsError(try InputListing().expand([dir.path])) { error in
            XCTAssertTrue("\(error)".contains("would both write the catalog x.cat.*"), "\(error)")
        }
        // A client can send any relative path in a job: the driver checks before it writes anything.
        let out = dir.appendingPathComponent("out")
        let spec = JobSpec(inputs: [InputFile(uri: dir.appendingPathComponent("x.fits").path, relativePath: "../escape.fits")],
                           parameters: ExtractParameters(output: out.path))
        XCTAssertThrowsError(try PipelineFixtures.runLocal(spec)) { error in
            XCTAssertTrue("\(error)".contains("'..' segment"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("escape.cat.fits").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("_manifest.jsonl").path))
    }
}
