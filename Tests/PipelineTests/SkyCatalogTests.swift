import Engine
import Extraction
import FITS
import Foundation
import Pipeline
import TestSupport
import WCS
import XCTest

/// Catalogs of generated frames that carry real WCS headers (astropy's test data: TAN, SIP,
/// TPV, ZPN): ALPHA/DELTA_J2000 and their WIN twins agree with astropy's all_pix2world
/// at X/Y_IMAGE and X/YWIN_IMAGE within 1 mas, and the header carries the WCS keywords.
final class SkyCatalogTests: XCTestCase {
    static let astropyData = "/usr/lib/python3/dist-packages/astropy/wcs/tests/data"

    func testSkyColumnsAgreeWithAstropyOnTAN() throws { try compare("maps/1904-66_TAN.hdr") }
    func testSkyColumnsAgreeWithAstropyOnSIP() throws { try compare("siponly.hdr") }
    func testSkyColumnsAgreeWithAstropyOnTPV() throws { try compare("tpvonly.hdr") }
    func testSkyColumnsAgreeWithAstropyOnZPN() throws { try compare("maps/1904-66_ZPN.hdr") }

    func testImageWithoutWCSHasNoSkyColumnsAndSaysWhy() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-sky")
        defer { try? FileManager.default.removeItem(at: directory) }
        let frame = try Self.frame(in: directory, keywords: [])
        let entry = try Self.extract(frame, in: directory)
        XCTAssertEqual(entry.outcome, .committed)
        let report = try python("""
            import json, sys
            from astropy.io import fits
            h = fits.open(sys.argv[1])[1]
            print(json.dumps({'names': h.columns.names, 'sky': h.header['SKYCOORD']}))
            """, directory.appendingPathComponent("out/frame.cat.fits").path)
        let names = report["names"] as? [String] ?? []
        XCTAssertEqual(names, Catalog.columnDescriptions(apertureCount: 1).map(\.name), "default columns unchanged")
        XCTAssertEqual(report["sky"] as? String, "none: no WCS in the header")
    }

    // MARK: Helpers

    private func compare(_ file: String) throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-sky")
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: Self.astropyData + "/" + file, encoding: .ascii)
        let cards = FITSHeader(headerText: text).cards.filter { $0.value != nil && WorldCoordinateSystem.isWCSKeyword($0.keyword) }
        let frame = try Self.frame(in: directory, keywords: cards)
        let entry = try Self.extract(frame, in: directory)
        XCTAssertEqual(entry.outcome, .committed, entry.error ?? "")
        let report = try python("""
            import json, sys, warnings
            import numpy as np
            warnings.simplefilter('ignore')
            from astropy.io import fits
            from astropy.wcs import WCS
            cat = fits.open(sys.argv[1])[1]
            d = cat.data
            w = WCS(fits.getheader(sys.argv[2]))
            def worst(xc, yc, ac, dc):
                ra, dec = w.all_pix2world(d[xc], d[yc], 1)
                r = np.radians
                h = np.sin((r(dec) - r(d[dc])) / 2) ** 2 + np.cos(r(dec)) * np.cos(r(d[dc])) * np.sin((r(ra) - r(d[ac])) / 2) ** 2
                return float(np.degrees(2 * np.arcsin(np.sqrt(h))).max() * 3.6e6)
            print(json.dumps({'rows': len(d), 'worst': worst('X_IMAGE', 'Y_IMAGE', 'ALPHA_J2000', 'DELTA_J2000'),
                              'worstwin': worst('XWIN_IMAGE', 'YWIN_IMAGE', 'ALPHAWIN_J2000', 'DELTAWIN_J2000'),
                              'ctype': cat.header.get('CTYPE1'), 'sky': cat.header['SKYCOORD'],
                              'last': cat.columns.names[-4:]}))
            """, directory.appendingPathComponent("out/frame.cat.fits").path, frame)
        XCTAssertGreaterThan(report["rows"] as? Int ?? 0, 50)
        XCTAssertLessThan(report["worst"] as? Double ?? .infinity, 1, "ALPHA/DELTA_J2000 vs astropy, mas")
        XCTAssertLessThan(report["worstwin"] as? Double ?? .infinity, 1, "ALPHAWIN/DELTAWIN_J2000 vs astropy, mas")
        XCTAssertEqual(report["ctype"] as? String, cards.first { $0.keyword == "CTYPE1" }?.value.flatMap {
            if case .string(let s) = $0 { return s } else { return nil }
        })
        XCTAssertEqual(report["last"] as? [String], ["ALPHA_J2000", "DELTA_J2000", "ALPHAWIN_J2000", "DELTAWIN_J2000"])
        XCTAssertTrue((report["sky"] as? String ?? "").hasPrefix("J2000 from"))
    }

    /// A 400x300 generated frame with these header cards.
    static func frame(in directory: URL, keywords: [FITSCard], seed: UInt64 = 11, name: String = "frame.fits") throws -> String {
        let recipe = FrameRecipe(width: 400, height: 300, seed: seed)
        let path = directory.appendingPathComponent(name).path
        try FITSImageWriter(width: 400, height: 300, pixels: .float32(SyntheticFrame.render(recipe)), keywords: keywords)
            .write(to: path)
        return path
    }

    static func extract(_ path: String, in directory: URL, parameters: ExtractionParameters = ExtractionParameters(),
                        format: CatalogFormat = .fits, hdu: String = "") throws -> ManifestEntry {
        let op = try ExtractOperator(parameters: ExtractParameters(
            output: directory.appendingPathComponent("out").path, format: format, hdu: HDUChoice(hdu),
            extraction: parameters))
        let context = TaskContext(attemptID: TaskAttemptID(jobID: "j", partition: 0, attempt: 0), executor: "e")
        return try op.apply([InputFile(uri: path, relativePath: URL(fileURLWithPath: path).lastPathComponent)],
                            context: context)[0]
    }
}

/// Runs a Python snippet under the system python and decodes the JSON object it prints.
func python(_ script: String, _ arguments: String...) throws -> [String: Any] {
    let output = try TestSupport.run(TestSupport.systemPython, ["-c", script] + arguments)
    guard output.status == 0 else { throw TestSupportError.commandFailed("python: \(output.stderr)") }
    return try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any] ?? [:]
}

/// MAG_ZEROPOINT from a header keyword where the image has it, else the configured one.
final class ZeroPointKeywordTests: XCTestCase {
    func testZeroPointKeywordOverridesTheConfiguredOneWhereTheImageHasIt() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-zp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let with = try SkyCatalogTests.frame(in: directory, keywords: [.double("MAGZPT", 27.5)], name: "with.fits")
        let without = try SkyCatalogTests.frame(in: directory, keywords: [], name: "without.fits")
        var parameters = ExtractionParameters()
        parameters.columns = try ColumnSelection(list: "FLUX_APER(1),MAG_APER(1)")
        parameters.magnitudeZeroPoint = 20
        parameters.magnitudeZeroPointKeyword = "MAGZPT"
        for path in [with, without] {
            XCTAssertEqual(try SkyCatalogTests.extract(path, in: directory, parameters: parameters).outcome, .committed)
        }
        let report = try python("""
            import json, sys
            import numpy as np
            from astropy.io import fits
            out = {}
            for name in sys.argv[1:]:
                h = fits.open(name)[1]
                d = h.data[h.data['FLUX_APER'] > 0]
                out[name.split('/')[-1]] = {'zp': h.header['MAGZP'],
                    'err': float(np.abs(d['MAG_APER'] + 2.5 * np.log10(d['FLUX_APER']) - h.header['MAGZP']).max())}
            print(json.dumps(out))
            """, directory.appendingPathComponent("out/with.cat.fits").path, directory.appendingPathComponent("out/without.cat.fits").path)
        let withZP = report["with.cat.fits"] as? [String: Double], withoutZP = report["without.cat.fits"] as? [String: Double]
        XCTAssertEqual(withZP?["zp"], 27.5)
        XCTAssertEqual(withoutZP?["zp"], 20)
        XCTAssertLessThan(withZP?["err"] ?? 1, 1e-9)
        XCTAssertLessThan(withoutZP?["err"] ?? 1, 1e-9)
    }
}
