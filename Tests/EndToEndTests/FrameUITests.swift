import Foundation
import TestSupport
import XCTest

/// A job's frame table in the web UI and REST API of `sextant run --ui`, and its plots as headless
/// Chromium renders them.
final class FrameUITests: XCTestCase {
    private var local: Process?

    override func tearDown() {
        TestSupport.stop(local)
    }

    func testFramesPageAndAPIShowTheJobsFrameTableAndThePlotsRender() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-frames-ui")
        let frames = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        _ = try TestSupport.python(FrameFixtures.generator, arguments: [frames.path])
        let out = dir.appendingPathComponent("out")
        let log = dir.appendingPathComponent("run.log")
        let process = try Sextant.start(["run", frames.path, "--out", out.path, "--master", "local[2]",
                                         "--ui", "--ui-port", "0", "--ui-keep"], logTo: log)
        local = process
        let ui = try uiURL(log)
        let jobID = try waitForJob(ui)

        // The API's rows are the job's _frames.csv rows (the monitor got them from the manifest entries).
        let api = try XCTUnwrap(try HTTP.json(ui + "api/v1/jobs/\(jobID)/frames") as? [String: Any])
        let rows = try XCTUnwrap(api["frames"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 7, "six frames, one a two-CCD mosaic")
        XCTAssertEqual(api["dropped"] as? Int, 0)
        let csv = try String(contentsOf: out.appendingPathComponent("_frames.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try XCTUnwrap(csv.first)
        let column = { (name: String) in header.firstIndex(of: name)! }
        for line in csv.dropFirst() {
            let row = try XCTUnwrap(rows.first { $0["input"] as? String == line[column("INPUT")]
                && $0["hdu"] as? Int == Int(line[column("HDU")]) }, "no API row for \(line[0])")
            XCTAssertEqual(row["background"] as? Double ?? .nan, Double(line[column("BACKGROUND")]) ?? 0, accuracy: 1e-9)
            XCTAssertEqual(row["fwhm"] as? Double ?? .nan, Double(line[column("FWHM")]) ?? 0, accuracy: 1e-9)
            XCTAssertEqual(row["sources"] as? Int, Int(line[column("NSOURCES")]))
            XCTAssertEqual((row["keywords"] as? [String: String])?["FILTER"], line[column("FILTER")])
        }

        let page = try HTTP.fetch(ui + "jobs/\(jobID)/frames")
        XCTAssertEqual(page.status, 200)
        for title in ["Background level", "Median FWHM of point sources", "Sources per frame", "Footprints on the sky"] {
            XCTAssertTrue(page.body.contains("aria-label=\"\(title)\""), "no \(title) plot")
        }
        XCTAssertEqual(page.body.components(separatedBy: "<polygon ").count - 1, 6, "a footprint per HDU with a WCS")
        XCTAssertTrue(try HTTP.fetch(ui + "jobs/\(jobID)").body.contains("/jobs/\(jobID)/frames"), "the job page links to it")

        // Headless Chromium draws the four plots: their marker colour covers thousands of pixels.
        let png = try render(ui + "jobs/\(jobID)/frames", name: "frames-page")
        let inked = try TestSupport.python(PNGInk.script, arguments: [png.path, "209,73,91"])
        XCTAssertGreaterThan(Int(inked.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 3000, "plots not rendered")

        TestSupport.stop(process, signal: SIGINT)
    }

    // MARK: Helpers

    private func uiURL(_ log: URL, timeout: TimeInterval = 30) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "web UI at ") { return String(text[range.upperBound...].prefix { !$0.isWhitespace }) }
            usleep(50_000)
        }
        XCTFail("no web UI URL in the log")
        throw CocoaError(.fileReadUnknown)
    }

    /// The job's id once it has ended.
    private func waitForJob(_ ui: String, timeout: TimeInterval = 90) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let job = (try? HTTP.json(ui + "api/v1/jobs") as? [[String: Any]])?.first, let id = job["id"] as? String,
               let status = job["status"] as? String, !["queued", "running"].contains(status) {
                XCTAssertEqual(status, "succeeded")
                return id
            }
            usleep(100_000)
        }
        XCTFail("the job did not end")
        throw CocoaError(.fileReadUnknown)
    }

    private func render(_ url: String, name: String) throws -> URL {
        let chromium = try XCTUnwrap(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile),
                                     "chromium is not installed (scripts/setup installs it)")
        let artifacts = TestSupport.repoRoot.appendingPathComponent(".test-work/artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("\(name).png")
        try? FileManager.default.removeItem(at: png)
        let profile = try TestSupport.makeTemporaryDirectory("chromium-profile")
        let out = try TestSupport.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                 "--user-data-dir=\(profile.path)", "--screenshot=\(png.path)",
                                                 "--window-size=1200,1100", url])
        XCTAssertTrue(FileManager.default.fileExists(atPath: png.path), "no screenshot: \(out.stderr)")
        return png
    }
}

/// Counts a PNG's pixels of one colour (standard library zlib and numpy; no imaging package needed).
enum PNGInk {
    static let script = #"""
import struct, sys, zlib
import numpy as np

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
offset, chunks, idat = 8, {}, b""
while offset < len(data):
    length, kind = struct.unpack(">I4s", data[offset:offset + 8])
    body = data[offset + 8:offset + 8 + length]
    if kind == b"IHDR": chunks["IHDR"] = body
    if kind == b"IDAT": idat += body
    offset += 12 + length
width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks["IHDR"])
assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
bpp = 3 if colour == 2 else 4
raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * bpp)
image = np.zeros((height, width * bpp), dtype=np.int32)
previous = np.zeros(width * bpp, dtype=np.int32)
for y in range(height):
    kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
    if kind == 0: row = line
    elif kind == 2: row = (line + previous) % 256
    elif kind == 1:
        row = line.reshape(width, bpp).copy()
        row = (np.cumsum(row, axis=0) % 256).reshape(-1)
    else:
        row = np.zeros_like(line)
        for x in range(width * bpp):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            if kind == 3: predictor = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            row[x] = (line[x] + predictor) % 256
    image[y] = row
    previous = row
pixels = image.reshape(height, width, bpp)[:, :, :3]
target = np.array([int(v) for v in sys.argv[2].split(",")])
print(int(np.all(np.abs(pixels - target) <= 2, axis=2).sum()))
"""#
}
