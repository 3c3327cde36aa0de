import Foundation
@testable import Pipeline
import XCTest

/// The driver's own codec for manifest entries (`ManifestEntry.scan`, `appendJSON`): the bytes it
/// writes are JSONEncoder's, what it reads is what JSONDecoder reads, and malformed records are
/// refused with where and why.
final class ManifestEntryCodingTests: XCTestCase {
    private func frame(_ hdu: Int, extname: String?) -> FrameRow {
        var row = FrameRow(hdu: hdu, extname: extname, background: 1000.25, rms: 10.5, sources: 2, fwhm: 3.1,
                           depth: 47.125, zeroPoint: nil, flagged: 0.5)
        row.ra = 150.1
        row.dec = -2.25
        row.corners = [1, 2, 3, 4.5, 5, 6, 7, 8e-7]
        row.mjd = 60000.5
        row.keywords = ["FILTER": .text("r/SDSS"), "EXPTIME": .number(53.907456), "AIRMASS": .number(1)]
        return row
    }

    /// Entries that set every field, odd strings and numbers of every magnitude.
    private func entries() -> [ManifestEntry] {
        var full = ManifestEntry(input: "s3://b/d1/f\u{e9} \"q\"\\x.fits", catalog: "d1/f.cat.fits", outcome: .failed,
                                 attempts: 4, rows: 12, bytes: 8640, sha256: String(repeating: "0a", count: 32),
                                 seconds: 0.1 + 0.2, executor: "e1@host/1", error: "line\twith\u{1}control\r\n\u{1f}",
                                 outputs: ["a.csv", "b/c.csv"], hdus: [HDUSummary(hdu: 1, extname: "CCD/1", rows: 3)])
        full.waitSeconds = 1e-7
        full.exitStatus = -3
        full.signal = 9
        full.command = "sex -c \"a b\" \u{2028}"
        full.stderr = "\u{8}\u{c}\u{7f}"
        full.reason = "FILTER = 'g' \u{1F52D}"
        full.split = false
        full.splitParts = [SplitPart(hdu: 2, catalog: "x.cat", keptBytes: 7)]
        full.frames = [frame(0, extname: nil), frame(1, extname: "CCD/1")]
        full.provenance = InputProvenance(inputSHA256: String(repeating: "f", count: 64), inputSize: 1 << 40,
                                          inputETag: "\"0f343b0931126a20f133d67c2b018a3b\"",
                                          inputModified: "2026-12-01T19:24:39.123Z", path: "d1/f.fits",
                                          software: "sextant 1.0 (sep 1.2)", started: "2026-12-01T19:24:39.123Z",
                                          finished: "2026-12-01T19:24:40.000Z")
        var result = [full, ManifestEntry(input: "/a.fits", outcome: .notRun, attempts: 0),
                      ManifestEntry(input: "/b.fits", catalog: "b.cat", outcome: .skipped, attempts: 0, bytes: 0)]
        var random = SystemRandomNumberGenerator()
        for exponent in -12...20 {
            var entry = ManifestEntry(input: "/f\(exponent).fits", outcome: .committed,
                                      seconds: Double.random(in: 0..<1, using: &random) * pow(10, Double(exponent)))
            entry.waitSeconds = pow(10, Double(exponent))
            entry.split = true
            result.append(entry)
        }
        return result
    }

    func testLinesAreByteForByteWhatJSONEncoderWrites() throws {
        let encoder = ManifestEntry.lineEncoder()
        for entry in entries() {
            var line: [UInt8] = []
            try entry.appendJSON(to: &line)
            XCTAssertEqual(String(decoding: line, as: UTF8.self), String(decoding: try encoder.encode(entry), as: UTF8.self))
        }
        let all = entries()
        XCTAssertEqual(try ManifestEntry.encodeLines(all),
                       Data(try all.flatMap { try encoder.encode($0) + [UInt8(ascii: "\n")] }))
        var notFinite: [UInt8] = []
        XCTAssertThrowsError(try ManifestEntry(input: "/a", outcome: .committed, seconds: .nan).appendJSON(to: &notFinite))
    }

    func testScanningReadsBackEveryFieldAndKeepsTheFrameRowsAsTheirBytes() throws {
        let encoder = ManifestEntry.lineEncoder()
        for entry in entries() {
            let scanned = try ManifestEntry.scan(try encoder.encode(entry))
            var withoutFrames = entry
            withoutFrames.frames = nil
            XCTAssertEqual(scanned.entry, withoutFrames)
            XCTAssertEqual(scanned.frames, try entry.frames.map { try encoder.encode($0) }, "the manifest's own bytes")
            XCTAssertEqual(try scanned.frames.map(FrameRow.scanList), entry.frames)
            // And written again with those bytes, the same line.
            var line: [UInt8] = []
            try scanned.entry.appendJSON(to: &line, frames: scanned.frames)
            XCTAssertEqual(Data(line), try encoder.encode(entry))
        }
    }

    /// An executor's records come from the engine's encoder, which escapes "/": the frame rows
    /// kept are the manifest's form all the same.
    func testAnExecutorsEscapedSlashesBecomeTheManifestsForm() throws {
        var entry = ManifestEntry(input: "/d/f.fits", catalog: "f.cat", outcome: .committed)
        entry.frames = [frame(1, extname: "CCD/1")]
        let executorEncoder = JSONEncoder()
        executorEncoder.outputFormatting = [.sortedKeys]
        let record = try executorEncoder.encode(entry)
        XCTAssertTrue(String(decoding: record, as: UTF8.self).contains("\\/"))
        let scanned = try ManifestEntry.scan(record)
        XCTAssertEqual(scanned.frames, try ManifestEntry.lineEncoder().encode(entry.frames!))
        XCTAssertEqual(scanned.entry.input, "/d/f.fits")
    }

    func testScanningReadsWhatJSONDecoderReads() throws {
        let text = """
         { "input" : "\\/d\\/f\\u00e9\\ud83d\\udd2d.fits", "attempts":2, "outcome":"committed", "rows":null,
           "unknown":{"deep":[1,2,{"x":[true,false,null]}],"s":"\\"}"}, "seconds": 1.5E+2, "outputs": [ ],
           "provenance": {"inputSize": 3, "path": "f", "software": "s", "started": "t", "future": 1},
           "frames": null, "hdus": [{"hdu": 1, "rows": 2}] }
        """
        let scanned = try ManifestEntry.scan(Data(text.utf8))
        XCTAssertEqual(scanned.entry, try JSONDecoder().decode(ManifestEntry.self, from: Data(text.utf8)))
        XCTAssertEqual(scanned.entry.input, "/d/f\u{e9}\u{1F52D}.fits")
        XCTAssertNil(scanned.frames)
        XCTAssertEqual(ManifestEntry.scanInput(Data(text.utf8)), "/d/f\u{e9}\u{1F52D}.fits")
        XCTAssertNil(ManifestEntry.scanInput(Data(#"{"catalog":"c"}"#.utf8)))
        XCTAssertNil(ManifestEntry.scanInput(Data(#"{"input":"a""#.utf8)), "unterminated")
    }

    func testMalformedRecordsAreRefusedSayingWhereAndWhy() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let cases: [(String, String)] = [
            ("", "expected '{'"),
            (#"{"input":"a","attempts":1}"#, "no \"outcome\""),
            (#"{"input":"a","outcome":"won","attempts":1}"#, "an unknown outcome"),
            (#"{"input":"a","outcome":"failed","attempts":1.5}"#, "expected an integer"),
            (#"{"input":"a","outcome":"failed","attempts":"1"}"#, "expected a value"),
            (#"{"input":"a","outcome":"failed","attempts":1,"seconds":1e999}"#, "a finite number"),
            (#"{"input":"a","outcome":"failed","attempts":1} x"#, "text after the value"),
            (#"{"input":"a\ud800","outcome":"failed","attempts":1}"#, "a lone surrogate"),
            (#"{"input":"a\q","outcome":"failed","attempts":1}"#, "an unknown escape"),
            ("{\"input\":\"a\nb\",\"outcome\":\"failed\",\"attempts\":1}", "a control character"),
            (#"{"input":"a","outcome":"failed","attempts":1,"x":"#, "expected a value"),
            (#"{"input":"a","outcome":"failed","attempts":1,"x":\#(deep)}"#, "nested deeper than 64"),
            (#"{"input":"a","outcome":"failed","attempts":1,"provenance":{"path":"p"}}"#, "a provenance without"),
            (#"{"input":"a","outcome":"failed","attempts":1,"frames":[{"hdu":0}]}"#, "a frame row without"),
            (#"{"input":"a","outcome":"failed","attempts":1,"frames":[{"hdu":0,"corners":[1,2,3,4,5,6,7,8,9]}]}"#,
             "more than 8 corner"),
            (#"{"input":"a","outcome":"failed","attempts":1,"rows":-}"#, "expected a value"),
            (#"{"input":"a" "outcome":"failed"}"#, "expected ',' or '}'"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try scanWithFrames(Data(text.utf8)), text) { error in
                XCTAssertTrue("\(error)".hasPrefix("malformed JSON at byte "), "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(text): \(error)")
            }
        }
        XCTAssertThrowsError(try ManifestEntry.scan(Data([UInt8(ascii: "{"), UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\""),
                                                         UInt8(ascii: ":"), UInt8(ascii: "1"), UInt8(ascii: "}")]))) {
            XCTAssertTrue("\($0)".contains("not UTF-8"), "\($0)")
        }
    }

    private func scanWithFrames(_ data: Data) throws {
        let scanned = try ManifestEntry.scan(data)
        _ = try scanned.frames.map(FrameRow.scanList)
    }

    /// A broken executor's record fails its input with the scanner's reason, one line.
    func testAnUndecodableRecordSaysWhy() {
        let input = InputFile(uri: "/d/f.fits", relativePath: "f.fits", size: 1)
        XCTAssertThrowsError(try RecordValidation.entries([Data(#"{"input":"/d/f.fits","#.utf8)], inputs: [input],
                                                          outputNames: { _ in ["f.cat"] })) { error in
            XCTAssertEqual("\(error)", "an undecodable record for /d/f.fits: malformed JSON at byte 21: expected a key")
        }
    }
}

final class TaskInputJSONTests: XCTestCase {
    /// A task's source record decodes, as the executor's first step decodes it, to the input itself.
    func testATasksInputRecordDecodesToTheInput() throws {
        var split = InputFile(uri: "s3://b/d/f \"\u{e9}\\.fits", relativePath: "d/f.fits", size: 1 << 40, hdu: 3)
        split.sha256 = String(repeating: "ab", count: 32)
        for input in [split, InputFile(uri: "/d/f.fits", relativePath: "f.fits")] {
            XCTAssertEqual(try JSONDecoder().decode(InputFile.self, from: Data(input.taskRecord.utf8)), input)
        }
    }
}
