import Engine
import Extraction
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// The frame table (`_frames.fits`, `_frames.csv`) against an independent computation with
/// astropy and numpy on frames of varied filters, exposure times, seeing and WCS, and `--where`
/// against the frames' headers.
final class FrameTableTests: XCTestCase {
    /// Six frames (one a two-CCD mosaic whose FILTER is in its primary header), written by numpy
    /// and astropy with pixel-integrated Gaussian stars of known seeing, and the truth.
    private func makeFrames() throws -> URL {
        let dir = try TestSupport.makeTemporaryDirectory("frame-table").appendingPathComponent("in")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        _ = try TestSupport.python(FrameFixtures.generator, arguments: [dir.path])
        return dir
    }

    private func run(_ frames: URL, selection: String? = nil, settings: [String: String] = [:]) throws
        -> (out: URL, report: JobReport) {
        let out = frames.deletingLastPathComponent().appendingPathComponent("out-\(UUID().uuidString.prefix(6))")
        let inputs = try InputListing().expand([frames.path])
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path), settings: settings,
                           selection: selection)
        return (out, try PipelineFixtures.runLocal(spec))
    }

    func testFrameTableEqualsAstropyAndNumpyOnTheSameImages() throws {
        let frames = try makeFrames()
        let (out, report) = try run(frames, settings: [FrameKeys.magnitudeZeroPoint.name: "25"])
        XCTAssertEqual(report.status, .succeeded)
        let answer = try TestSupport.python(FrameReference.comparison, arguments: [frames.path, out.path, "25", "3"])
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        let failures = result["failures"] as? [String] ?? ["no answer: \(answer)"]
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
        // 7 rows of about 25 checks each, and the CSV's: a comparison that silently checked nothing fails here.
        XCTAssertGreaterThan(result["checks"] as? Int ?? 0, 7 * 20)
        let verified = try TestSupport.run("/usr/bin/fitsverify", ["-q", out.appendingPathComponent("_frames.fits").path])
        XCTAssertEqual(verified.status, 0, "fitsverify: \(verified.stdout)")
    }

    func testWhereRunsExactlyTheMatchingFramesAndListsTheRestWithTheirValues() throws {
        let frames = try makeFrames()
        let (out, report) = try run(frames, selection: #"FILTER == "r" && EXPTIME >= 30"#)
        XCTAssertEqual(report.status, .succeeded)
        XCTAssertEqual(report.excluded, 4)
        let manifest = try PipelineFixtures.manifest(in: out)
        let outcome = Dictionary(uniqueKeysWithValues: manifest.map {
            (URL(fileURLWithPath: $0.input).deletingPathExtension().lastPathComponent, $0)
        })
        XCTAssertEqual(Set(outcome.filter { $0.value.outcome == .committed }.keys), ["f0", "f4"])
        XCTAssertEqual(Set(outcome.filter { $0.value.outcome == .excluded }.keys), ["f1", "f2", "f3", "f5"])
        XCTAssertEqual(outcome["f1"]?.reason, #"--where 'FILTER == "r" && EXPTIME >= 30' is false: FILTER = "r", EXPTIME = 10"#)
        XCTAssertEqual(outcome["f5"]?.reason, #"--where 'FILTER == "r" && EXPTIME >= 30' is false: FILTER = "z", EXPTIME absent"#)
        for name in ["f1", "f2", "f3", "f5"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(name).cat.fits").path))
        }
        // The mosaic matched on its primary header; the frame table lists every input.
        let csv = try String(contentsOf: out.appendingPathComponent("_frames.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, 3 + 4, "f0, f4's two CCDs, and a row for each excluded input")
        XCTAssertEqual(lines.filter { $0.contains(",excluded,") }.count, 4)

        // || and ! pick the complement the other way round.
        let (again, _) = try run(frames, selection: #"!(FILTER == 'r') || EXPTIME < 30"#)
        let second = try PipelineFixtures.manifest(in: again)
        XCTAssertEqual(Set(second.filter { $0.outcome == .committed }.map {
            URL(fileURLWithPath: $0.input).deletingPathExtension().lastPathComponent }), ["f1", "f2", "f3", "f5"])
    }

    /// RFC 4180 quoting by bytes: a CR LF pair (one Swift Character) is quoted too, quotes are
    /// doubled, and the bytes appended are the quoted string's.
    func testCSVFieldsAreQuotedByTheirBytes() {
        let cases = ["plain/path.fits": "plain/path.fits", "a,b": "\"a,b\"", "say \"hi\"": "\"say \"\"hi\"\"\"",
                     "line\r\nbreak": "\"line\r\nbreak\"", "cr\ronly": "\"cr\ronly\"", "é,ü": "\"é,ü\""]
        for (text, quoted) in cases {
            XCTAssertEqual(CSVField.quoted(text), quoted, text)
            var line: [UInt8] = [UInt8(ascii: "x")]
            CSVField.append(text, to: &line)
            XCTAssertEqual(String(decoding: line, as: UTF8.self), "x" + quoted, text)
        }
    }

    /// Frame rows and exclusion reasons sit beside the driver's compact slots: an entry with
    /// them stays compact and comes back exactly as it was set.
    func testEntryTableKeepsFramesAndReasonsCompactly() throws {
        let table = EntryTable(count: 2)
        let inputs = [InputFile(uri: "/in/a.fits", relativePath: "a.fits"), InputFile(uri: "/in/b.fits", relativePath: "b.fits")]
        var measured = ManifestEntry(input: "/in/a.fits", catalog: "a.cat.fits", outcome: .committed, rows: 3, bytes: 100,
                                     seconds: 0.5, executor: "e1")
        var row = FrameRow(hdu: 0, extname: nil, background: 100, rms: 5, sources: 3, fwhm: 3.1, depth: 140,
                           zeroPoint: 25, flagged: 0)
        row.keywords = ["FILTER": .text("r"), "EXPTIME": .number(30)]
        row.ra = 150; row.dec = 2; row.corners = [1, 2, 3, 4, 5, 6, 7, 8]; row.mjd = 60000.5
        measured.frames = [row]
        var excluded = ManifestEntry(input: "/in/b.fits", catalog: "b.cat.fits", outcome: .excluded, attempts: 0)
        excluded.reason = "--where 'EXPTIME > 60' is false: EXPTIME = 30"
        table.set(measured, at: 0, input: inputs[0], outputs: ["a.cat.fits"])
        table.set(excluded, at: 1, input: inputs[1], outputs: ["b.cat.fits"])
        XCTAssertEqual(table.wholeCount, 0)
        XCTAssertEqual(table.entry(at: 0, input: inputs[0], outputs: ["a.cat.fits"]), measured)
        XCTAssertEqual(table.entry(at: 1, input: inputs[1], outputs: ["b.cat.fits"]), excluded)
        XCTAssertEqual(table.outcome(at: 1), .excluded)
    }

    /// `--resume` keeps the measured rows of the inputs it skips (from the earlier manifest).
    func testResumeKeepsTheFrameRowsOfSkippedInputs() throws {
        let frames = try makeFrames()
        let out = frames.deletingLastPathComponent().appendingPathComponent("resumed")
        let inputs = try InputListing().expand([frames.path])
        _ = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path)))
        let first = try String(contentsOf: out.appendingPathComponent("_frames.csv"), encoding: .utf8)
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path),
                                                           resume: true))
        XCTAssertEqual(report.skipped, 6)
        let again = try String(contentsOf: out.appendingPathComponent("_frames.csv"), encoding: .utf8)
        // Every column but OUTCOME (committed -> skipped) and SECONDS (a skipped input took none) is the same.
        func measured(_ csv: String) -> [[String]] {
            let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let header = lines[0]
            let kept = header.indices.filter { !["OUTCOME", "SECONDS"].contains(header[$0]) }
            return lines.map { line in kept.map { line[$0] } }
        }
        XCTAssertEqual(measured(again), measured(first))
        XCTAssertEqual(again.split(separator: "\n").dropFirst().filter { $0.contains(",skipped,") }.count, 7)
    }

    /// FWHM_IMAGE means what it means in SExtractor: Debian's source-extractor on the same frames
    /// (its 3x3 filter off on both sides) gives the same widths to within 1 %.
    func testFWHMImageAgreesWithSourceExtractor() throws {
        let sextractor = "/usr/bin/source-extractor"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: sextractor), "scripts/setup installs source-extractor")
        let frames = try makeFrames()
        let work = frames.deletingLastPathComponent()
        var extraction = ExtractionParameters()
        extraction.columns = try ColumnSelection(list: "NUMBER,X_IMAGE,Y_IMAGE,FWHM_IMAGE,FLAGS")
        extraction.filter = nil
        let out = work.appendingPathComponent("fwhm")
        let inputs = try InputListing().expand([frames.path]).filter { !$0.uri.hasSuffix("f4.fits") }
        _ = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(
            output: out.path, format: .csv, extraction: extraction)))
        let param = work.appendingPathComponent("fwhm.param")
        try "NUMBER\nX_IMAGE\nY_IMAGE\nFWHM_IMAGE\n".write(to: param, atomically: true, encoding: .utf8)
        for input in inputs {
            let name = URL(fileURLWithPath: input.uri).deletingPathExtension().lastPathComponent
            let result = try TestSupport.run(sextractor, [input.uri, "-c", "/dev/null", "-PARAMETERS_NAME", param.path,
                                                          "-CATALOG_NAME", work.appendingPathComponent("\(name).sex.txt").path,
                                                          "-CATALOG_TYPE", "ASCII", "-FILTER", "N", "-VERBOSE_TYPE", "QUIET"],
                                             currentDirectory: work)
            XCTAssertEqual(result.status, 0, result.stderr)
            let answer = try TestSupport.python(#"""
                import sys, numpy as np
                sx = np.atleast_2d(np.loadtxt(sys.argv[1]))
                ours = np.genfromtxt(sys.argv[2], delimiter=",", names=True)
                ratios = []
                for row in ours:
                    d = np.hypot(sx[:, 1] - row["X_IMAGE"], sx[:, 2] - row["Y_IMAGE"])
                    if d.min() < 0.5: ratios.append(row["FWHM_IMAGE"] / sx[d.argmin(), 3])
                print(len(ratios), min(ratios), max(ratios))
                """#, arguments: [work.appendingPathComponent("\(name).sex.txt").path,
                                  out.appendingPathComponent("\(name).cat.csv").path])
            let numbers = answer.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            XCTAssertEqual(numbers.count, 3, answer)
            XCTAssertGreaterThanOrEqual(numbers.first ?? 0, 25, "\(name): the 25 stars (and the noise peaks both find unfiltered) matched")
            XCTAssertEqual(numbers[1], 1, accuracy: 0.01, "\(name): smallest FWHM_IMAGE ratio to source-extractor's")
            XCTAssertEqual(numbers[2], 1, accuracy: 0.01, "\(name): largest ratio")
        }
    }

    /// The short form of scripts/bench/where: thousands of header-only inputs, a gzip'd one and a
    /// broken one; the counts are exactly the expected ones.
    func testWhereOverThousandsOfHeadersCountsExactly() throws {
        let dir = try TestSupport.makeTemporaryDirectory("where-many")
        // Written by Python: FILTER cycles g r i z, EXPTIME 10 30 60 120 in blocks of four, none on every 7th.
        _ = try TestSupport.python(#"""
            import sys
            def card(text): return text.ljust(80)
            for i in range(3000):
                cards = [card("SIMPLE  =                    T"), card("BITPIX  =                    8"),
                         card("NAXIS   =                    0"), card("FILTER  = '%-8s'" % "griz"[i % 4])]
                if i % 7: cards.append(card("EXPTIME = %20.1f" % [10, 30, 60, 120][(i // 4) % 4]))
                open(f"{sys.argv[1]}/f{i}.fits", "w").write(("".join(cards) + card("END")).ljust(2880))
            """#, arguments: [dir.path])
        var inputs = (0..<3000).map { InputFile(uri: dir.appendingPathComponent("f\($0).fits").path, relativePath: "f\($0).fits") }
        let expected = (0..<3000).filter { $0 % 4 == 1 && $0 % 7 != 0 && [10, 30, 60, 120][($0 / 4) % 4] >= 30 }.count
        let zipped = dir.appendingPathComponent("zipped.fits.gz")
        // f5 is r and 30 s: its gzip'd copy is selected too.
        _ = try TestSupport.run("/bin/sh", ["-c", "gzip -c '\(inputs[5].uri)' > '\(zipped.path)'"])
        inputs.append(InputFile(uri: zipped.path, relativePath: "zipped.fits.gz"))
        let broken = dir.appendingPathComponent("broken.fits")
        try Data("SIMPLE  = not really a header".utf8).write(to: broken)
        inputs.append(InputFile(uri: broken.path, relativePath: "broken.fits"))
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: dir.appendingPathComponent("out").path),
                           selection: #"FILTER == "r" && EXPTIME >= 30"#)
        let counts = try spec.selectionCounts()
        XCTAssertEqual(counts.selected, expected + 1)
        XCTAssertEqual(counts.unreadable, 1)
        XCTAssertEqual(counts.selected + counts.excluded + counts.unreadable, inputs.count)
    }

    func testHeaderExpressionsCompareAsDocumented() throws {
        let header: [String: FrameValue] = ["FILTER": .text("r   "), "EXPTIME": .number(30), "MJD-OBS": .number(60000.5),
                                            "PHOTOMET": .text("T"), "BAD": .text("F")]
        func holds(_ text: String) throws -> Bool { try HeaderExpression(text).matches { header[$0] } }
        XCTAssertTrue(try holds(#"FILTER == "r" && EXPTIME >= 30"#), "trailing blanks do not count, as in FITS")
        XCTAssertTrue(try holds("filter == 'r' && exptime > 29.5 && exptime <= 3e1"))
        XCTAssertFalse(try holds("EXPTIME != 30 || MJD-OBS < 60000"))
        XCTAssertTrue(try holds("!(EXPTIME < 30) && (FILTER == 'g' || FILTER == 'r')"))
        XCTAssertTrue(try holds("PHOTOMET && !BAD && !AIRMASS"), "a lone keyword: present and not F")
        XCTAssertFalse(try holds("AIRMASS < 2"), "a missing keyword compares false")
        XCTAssertFalse(try holds("FILTER > 3"), "a string and a number compare false")
        XCTAssertTrue(try holds("MJD-OBS >= -1"))
        XCTAssertEqual(try HeaderExpression(#"FILTER == "r" || EXPTIME > 1 || FILTER"#).keywords, ["FILTER", "EXPTIME"])
        for (bad, said) in [("FILTER = 'r'", "unexpected '='"), ("FILTER == ", "expected a keyword or a value"),
                            ("(EXPTIME > 1", "expected ')'"), ("FILTER == 'r", "unterminated string"),
                            ("'r'", "a literal alone is not a condition"), ("EXPTIME > 1 EXPTIME", "unexpected EXPTIME"),
                            ("VERYLONGKEYWORD > 1", "is not a FITS keyword"), ("system('ls')", "unexpected '('")] {
            XCTAssertThrowsError(try HeaderExpression(bad), bad) { error in
                XCTAssertTrue("\(error)".contains(said), "\(bad): \(error)")
            }
        }
    }
}

/// The Python halves of the test: no code shared with Sextant.
enum FrameReference {
    static let comparison = #"""
import csv, json, math, sys
import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.time import Time
from astropy.wcs import WCS

frames_dir, out_dir, zero_point, aperture = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
truth = json.load(open(f"{frames_dir}/truth.json"))
table = Table.read(f"{out_dir}/_frames.fits")
checks, failures = 0, []

def check(label, ours, ref, tolerance, relative=False):
    global checks
    checks += 1
    bound = tolerance * abs(ref) if relative else tolerance
    if not (abs(ours - ref) <= bound):
        failures.append(f"{label}: table {ours!r}, reference {ref!r} (tolerance {bound:.3g})")

def erf(x):
    s = np.sign(x); x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    return s * (1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x))

def fitted_fwhm(data, x0, y0):
    """A pixel-integrated circular Gaussian fitted by least squares over sigma (a grid) and amplitude
    (linear), centred at the cutout's first moments: numpy only, no code shared with Sextant."""
    half = 7
    ix, iy = int(round(x0)), int(round(y0))
    cut = data[iy - half:iy + half + 1, ix - half:ix + half + 1]
    ys, xs = np.mgrid[iy - half:iy + half + 1, ix - half:ix + half + 1]
    w = np.clip(cut, 0, None)
    cx, cy = (w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()
    sigmas = np.arange(0.6, 3.5, 0.001)[:, None]
    ex = np.arange(ix - half, ix + half + 2)[None, :] - 0.5
    ey = np.arange(iy - half, iy + half + 2)[None, :] - 0.5
    px = np.diff(erf((ex - cx) / (math.sqrt(2) * sigmas)), axis=1) / 2
    py = np.diff(erf((ey - cy) / (math.sqrt(2) * sigmas)), axis=1) / 2
    models = py[:, :, None] * px[:, None, :]
    amplitudes = (models * cut).sum(axis=(1, 2)) / (models * models).sum(axis=(1, 2))
    chi2 = ((cut[None] - amplitudes[:, None, None] * models) ** 2).sum(axis=(1, 2))
    return 2.3548200450309493 * float(sigmas[np.argmin(chi2), 0])

rows_by_input = {}
for row in table:
    name = row["INPUT"].strip().split("/")[-1].replace(".fits", "")
    hdu = int(row["HDU"])
    rows_by_input.setdefault(name, []).append(row)
    image_hdus = fits.open(f"{frames_dir}/{name}.fits")
    primary, header = image_hdus[0].header, image_hdus[hdu].header
    data = image_hdus[hdu].data.astype(np.float64)
    label = f"{name}[{hdu}]"
    mean, median, std = sigma_clipped_stats(data, sigma=3.0, maxiters=10)
    check(label + " BACKGROUND", row["BACKGROUND"], median, 0.1 * std)
    check(label + " BACKGROUND_RMS", row["BACKGROUND_RMS"], std, 0.03, relative=True)
    star_fwhm = np.median([fitted_fwhm(data - median, x, y) for x, y, _ in truth[name][str(hdu)]["stars"]])
    check(label + " FWHM vs astropy/numpy fit", row["FWHM"], star_fwhm, 0.05, relative=True)
    check(label + " FWHM vs the generator's seeing", row["FWHM"], truth[name][str(hdu)]["fwhm"], 0.05, relative=True)
    depth = 5 * std * math.sqrt(math.pi * aperture ** 2)
    check(label + " DEPTH_FLUX", row["DEPTH_FLUX"], depth, 0.03, relative=True)
    check(label + " DEPTH_MAG", row["DEPTH_MAG"], zero_point - 2.5 * math.log10(depth), 0.03)
    check(label + " MAG_ZEROPOINT", row["MAG_ZEROPOINT"], zero_point, 0)
    for keyword in ["FILTER", "EXPTIME", "AIRMASS"]:
        value = header.get(keyword, primary.get(keyword))
        checks += 1
        got = row[keyword]
        if value is None:
            if not (np.ma.is_masked(got) or (isinstance(got, float) and math.isnan(got)) or str(got).strip() == ""):
                failures.append(f"{label} {keyword}: table {got!r}, header has none")
        elif isinstance(value, str):
            if str(got).strip() != value.strip(): failures.append(f"{label} {keyword}: table {got!r}, header {value!r}")
        else:
            check(f"{label} {keyword}", float(got), float(value), 0)
    mjd = header.get("MJD-OBS", primary.get("MJD-OBS"))
    if mjd is None: mjd = Time(header.get("DATE-OBS", primary.get("DATE-OBS")), format="isot", scale="utc").mjd
    check(label + " MJD", row["MJD"], mjd, 1e-6)
    has_wcs = "CTYPE1" in header
    checks += 1
    if bool(row["HAS_WCS"]) != has_wcs: failures.append(f"{label} HAS_WCS: table {row['HAS_WCS']}, header {has_wcs}")
    if has_wcs:
        ny, nx = data.shape
        ra, dec = WCS(header).all_pix2world((nx + 1) / 2, (ny + 1) / 2, 1)
        check(label + " RA_CENTER", row["RA_CENTER"], float(ra), 1e-7)
        check(label + " DEC_CENTER", row["DEC_CENTER"], float(dec), 1e-7)
    else:
        checks += 1
        if not math.isnan(row["RA_CENTER"]): failures.append(f"{label} RA_CENTER {row['RA_CENTER']} without a WCS")
    catalogs = fits.open(f"{out_dir}/{row['CATALOG'].strip()}")
    tables = [h for h in catalogs[1:] if h.header.get("INHDU", hdu) == hdu]
    objects = tables[0].data
    check(label + " NSOURCES", row["NSOURCES"], len(objects), 0)
    check(label + " NSOURCES vs stars made", row["NSOURCES"], len(truth[name][str(hdu)]["stars"]), 0)
    check(label + " FLAGGED_FRACTION", row["FLAGGED_FRACTION"], float(np.mean(objects["FLAGS"] != 0)), 1e-12)
    checks += 1
    if not (row["SECONDS"] > 0): failures.append(f"{label} SECONDS {row['SECONDS']}")

# Every frame and HDU has its row; the CSV holds the same table.
expected = sorted((name, hdu) for name, hdus in truth.items() for hdu in hdus)
got = sorted((row["INPUT"].strip().split("/")[-1].replace(".fits", ""), str(int(row["HDU"]))) for row in table)
checks += 1
if got != expected: failures.append(f"rows {got} != frames and HDUs {expected}")
with open(f"{out_dir}/_frames.csv") as handle:
    lines = list(csv.DictReader(handle))
checks += 1
if len(lines) != len(table): failures.append(f"CSV has {len(lines)} rows, FITS {len(table)}")
for line, row in zip(lines, table):
    for column in ["INPUT", "HDU", "FILTER", "NSOURCES", "BACKGROUND", "FWHM", "DEPTH_MAG", "RA_CENTER", "MJD_OBS"]:
        checks += 1
        a, b = line[column], row[column]
        if np.ma.is_masked(b):
            ok = a == ""
        elif isinstance(b, (float, np.floating)):
            ok = (a == "" and (math.isnan(b) or np.ma.is_masked(b))) or (a != "" and abs(float(a) - float(b)) <= 1e-9 * max(1, abs(float(b))))
        else:
            ok = a.strip() == str(b).strip()
        if not ok: failures.append(f"CSV {column} {a!r} != FITS {b!r}")
print(json.dumps({"checks": checks, "failures": failures}))
"""#
}
