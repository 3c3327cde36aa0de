import Foundation
@testable import Pipeline
import XCTest

/// `SkippedLine`: a resume copies an earlier manifest line only when writing its entry again
/// would give the same bytes; every line it accepts must re-encode to itself.
final class SkippedLineTests: XCTestCase {
    private let input = InputFile(uri: "/data/d0/f1.fits.gz", relativePath: "d0/f1.fits.gz")
    private let names = ["d0/f1.cat.csv"]

    private func skipped() -> ManifestEntry {
        var entry = ManifestEntry(input: input.uri, catalog: names[0], outcome: .skipped, attempts: 0, rows: 2,
                                  bytes: 1109, sha256: String(repeating: "e3", count: 32), executor: "exec-1@e1")
        entry.provenance = InputProvenance(inputSHA256: String(repeating: "0a", count: 32), inputSize: 1358,
                                           inputModified: "2026-12-02T13:51:12.470Z", path: input.relativePath,
                                           software: "1791f32e909376d2", started: "2026-12-02T13:51:33.247Z",
                                           finished: "2026-12-02T13:51:33.316Z")
        return entry
    }

    private let framesJSON = #"[{"background":1000.7224731445312,"depth":277.2,"flagged":1,"hdu":0,"rms":10.4,"sources":2}]"#

    private func line(_ entry: ManifestEntry, frames: String? = nil) throws -> String {
        var bytes: [UInt8] = []
        try entry.appendJSON(to: &bytes, frames: frames.map { Data($0.utf8) })
        return String(decoding: bytes, as: UTF8.self)
    }

    private func accepts(_ text: String) throws -> Bool {
        var text = text
        let accepted = text.withUTF8 { SkippedLine.isWritersForm(UnsafeRawBufferPointer($0)) }
        guard accepted else { return false }
        // Sound: what it accepts scans to an entry that writes the same line again.
        let scanned = try ManifestEntry.scan(Data(text.utf8))
        var again: [UInt8] = []
        try scanned.entry.appendJSON(to: &again, frames: scanned.frames)
        XCTAssertEqual(String(decoding: again, as: UTF8.self), text, "accepted, but encodes otherwise")
        return true
    }

    func testTheWritersSkippedLinesAreAccepted() throws {
        XCTAssertTrue(try accepts(try line(skipped(), frames: framesJSON)))
        XCTAssertTrue(try accepts(try line(skipped())))
        var multi = skipped()
        multi.outputs = ["a.csv", "b/c.csv"]
        multi.provenance = nil
        multi.rows = -3
        XCTAssertTrue(try accepts(try line(multi)))
        XCTAssertTrue(try accepts(#"{"attempts":0,"bytes":0,"input":"/x.fits","outcome":"skipped"}"#))
    }

    func testAnythingTheWriterWouldWriteOtherwiseIsRefused() throws {
        let good = try line(skipped(), frames: framesJSON)
        var committed = skipped()
        committed.outcome = .committed
        committed.attempts = 1
        committed.seconds = 0.25
        let edits: [(String, String)] = [
            (#""attempts":0"#, #""attempts":1"#),
            (#","rows":2"#, #","rows":02"#),
            (#","rows":2"#, #","rows":2.0"#),
            (#","rows":2"#, #","rows":-0"#),
            (#","rows":2"#, #","rows":null"#),
            (#""bytes":1109"#, #""bytes": 1109"#),
            (#""executor":"exec-1@e1""#, #""executor":"exec-1\/e1""#),
            (#""hdu":0"#, #""hdu":0,"extname":"a\/b""#),
            (#""attempts":0,"bytes":1109"#, #""bytes":1109,"attempts":0"#),
            (#""attempts":0"#, #""attempts":0,"attempts":0"#),
            (#","rows":2"#, #","rows":2,"seconds":1"#),
            (#""software":"#, #""schema":1,"software":"#),
            (#","inputSize":1358"#, ""),
            (#""bytes":1109,"#, ""),
        ]
        var refused: [String] = [try line(committed), good + " ", " " + good, String(good.dropLast())]
        for (from, to) in edits { refused.append(good.replacingOccurrences(of: from, with: to)) }
        for text in refused {
            XCTAssertNotEqual(text, good)
            XCTAssertFalse(try accepts(text), text)
        }
    }

    func testAMatchingEntryIsTheInputsSkippedEntry() throws {
        let entry = skipped()
        XCTAssertTrue(SkippedLine.matches(entry, input: input, outputs: names))
        XCTAssertFalse(SkippedLine.matches(entry, input: input, outputs: ["other.cat.csv"]))
        XCTAssertFalse(SkippedLine.matches(entry, input: input, outputs: names + ["second.csv"]))
        var noBytes = entry
        noBytes.bytes = nil
        XCTAssertFalse(SkippedLine.matches(noBytes, input: input, outputs: names))
        var failed = entry
        failed.error = "x"
        XCTAssertFalse(SkippedLine.matches(failed, input: input, outputs: names))
    }
}
