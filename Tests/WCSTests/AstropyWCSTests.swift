import Foundation
import TestSupport
import WCS
import XCTest
import FITS

/// Our wcslib positions against astropy.wcs `all_pix2world` (origin 1) on astropy's own test
/// headers, which include SIP and TPV distortions and a ZPN projection: within 1 mas.
final class AstropyWCSTests: XCTestCase {
    static let astropyData = "/usr/lib/python3/dist-packages/astropy/wcs/tests/data"

    func testTANAgreesWithAstropy() throws { try compare("maps/1904-66_TAN.hdr", width: 192, height: 192) }
    func testSIPAgreesWithAstropy() throws { try compare("siponly.hdr", width: 2048, height: 4096) }
    func testTPVAgreesWithAstropy() throws { try compare("tpvonly.hdr", width: 2048, height: 4096) }
    func testZPNAgreesWithAstropy() throws { try compare("maps/1904-66_ZPN.hdr", width: 192, height: 192) }

    func testHeaderWithoutWCSSaysSo() throws {
        let header = FITSHeader(headerText: card("SIMPLE  =                    T") + card("NAXIS   =                    2"))
        XCTAssertThrowsError(try WorldCoordinateSystem(headerRecords: header.records)) { error in
            XCTAssertEqual(error as? WCSUnavailable, .noWCS)
        }
    }

    func testLinearWCSIsNotCelestial() throws {
        let header = FITSHeader(headerText: ["CTYPE1  = 'X'", "CTYPE2  = 'Y'", "CRPIX1  = 1.0", "CRPIX2  = 1.0",
                                             "CRVAL1  = 0.0", "CRVAL2  = 0.0"].map(card).joined())
        XCTAssertThrowsError(try WorldCoordinateSystem(headerRecords: header.records)) { error in
            XCTAssertEqual(error as? WCSUnavailable, .notCelestial)
        }
    }

    /// Galactic axes come out equatorial J2000: the galactic centre and the galactic pole
    /// land where SExtractor's constants put them (to their 1e-8 deg precision).
    func testGalacticAxesBecomeEquatorial() throws {
        let wcs = try WorldCoordinateSystem(headerRecords: simpleHeader(ctype: ("GLON-CAR", "GLAT-CAR"), crval: (0, 0)))
        XCTAssertEqual(wcs.frame, .galactic)
        let centre = wcs.skyPositions(x: [50], y: [50])[0]
        XCTAssertEqual(centre.alpha, 266.40499625, accuracy: 1e-7)
        XCTAssertEqual(centre.delta, -28.93617242, accuracy: 1e-7)
        let pole = try WorldCoordinateSystem(headerRecords: simpleHeader(ctype: ("GLON-TAN", "GLAT-TAN"), crval: (0, 90)))
            .skyPositions(x: [50], y: [50])[0]
        XCTAssertEqual(pole.alpha, 192.85948123, accuracy: 1e-7)
        XCTAssertEqual(pole.delta, 27.12825120, accuracy: 1e-7)
    }

    /// FK5 at equinox 1950 is precessed to J2000 with IAU 1976 precession, as SExtractor does:
    /// checked against ERFA's pmat76 applied to astropy's equinox-1950 positions. (astropy's own
    /// FK5 frames precess with IAU 2006, ~0.15" away over 50 years.)
    func testFK5At1950IsPrecessedWithIAU1976() throws {
        var records = simpleHeader(ctype: ("RA---TAN", "DEC--TAN"), crval: (150.0, 30.0))
        records.insert(card("RADESYS = 'FK5'"), at: 0)
        records.insert(card("EQUINOX = 1950.0"), at: 0)
        let wcs = try WorldCoordinateSystem(headerRecords: records)
        XCTAssertEqual(wcs.frame, .fk5(equinox: 1950))
        let ours = wcs.skyPositions(x: [50, 1, 100], y: [50, 1, 100])
        let script = """
        import sys, json, erfa, numpy as np
        from astropy.wcs import WCS
        from astropy.io import fits
        from astropy.time import Time
        w = WCS(fits.Header.fromstring(sys.stdin.read()))
        ra, dec = w.all_pix2world([50, 1, 100], [50, 1, 100], 1)
        t = Time('J1950', scale='tt')
        m = erfa.pmat76(t.jd1, t.jd2).T   # equinox of date -> J2000
        v = m @ erfa.s2c(np.radians(ra), np.radians(dec))[..., None]
        a, d = erfa.c2s(v[..., 0])
        print(json.dumps([[float(np.degrees(x) % 360), float(np.degrees(y))] for x, y in zip(a, d)]))
        """
        let theirs = try astropy(script, header: records.joined())
        assertWithin(ours, theirs, milliarcseconds: 1)
    }

    func testManyThreadsShareNothing() throws {
        let records = try headerRecords("tpvonly.hdr")
        let reference = try WorldCoordinateSystem(headerRecords: records).skyPositions(x: [10, 2000], y: [10, 4000])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let wcs = try! WorldCoordinateSystem(headerRecords: records)
            for _ in 0..<50 { XCTAssertEqual(wcs.skyPositions(x: [10, 2000], y: [10, 4000]), reference) }
        }
    }

    // MARK: Helpers

    private func compare(_ file: String, width: Int, height: Int) throws {
        let records = try headerRecords(file)
        var xs: [Double] = [], ys: [Double] = []
        for i in 0...10 {
            for j in 0...10 {
                xs.append(1 + Double(width - 1) * Double(i) / 10 + 0.37)
                ys.append(1 + Double(height - 1) * Double(j) / 10 - 0.21)
            }
        }
        let ours = try WorldCoordinateSystem(headerRecords: records).skyPositions(x: xs, y: ys)
        let script = """
        import sys, json, warnings
        warnings.simplefilter('ignore')
        from astropy.wcs import WCS
        from astropy.io import fits
        h = fits.Header.fromstring(sys.stdin.read())
        w = WCS(h)
        xs = \(xs)
        ys = \(ys)
        ra, dec = w.all_pix2world(xs, ys, 1)
        print(json.dumps([[float(a), float(d)] for a, d in zip(ra, dec)]))
        """
        let theirs = try astropy(script, header: records.joined())
        XCTAssertEqual(ours.count, 121)
        assertWithin(ours, theirs, milliarcseconds: 1)
    }

    private func assertWithin(_ ours: [SkyPosition], _ theirs: [[Double]], milliarcseconds limit: Double,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, theirs.count, file: file, line: line)
        var worst = 0.0
        for (a, b) in zip(ours, theirs) {
            XCTAssertTrue(a.alpha.isFinite && a.delta.isFinite, "NaN position", file: file, line: line)
            worst = max(worst, separation(a, SkyPosition(alpha: b[0], delta: b[1])) * 3_600_000)
        }
        XCTAssertLessThan(worst, limit, "worst separation \(worst) mas", file: file, line: line)
    }

    private func astropy(_ script: String, header: String) throws -> [[Double]] {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-wcs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptFile = directory.appendingPathComponent("wcs.py")
        let headerFile = directory.appendingPathComponent("header.txt")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        try header.write(to: headerFile, atomically: true, encoding: .utf8)
        let output = try TestSupport.run("/bin/sh", ["-c", "\(TestSupport.systemPython) \(scriptFile.path) < \(headerFile.path)"])
        guard output.status == 0 else { throw TestSupportError.commandFailed("astropy: \(output.stderr)") }
        return try JSONDecoder().decode([[Double]].self, from: Data(output.stdout.utf8))
    }
}

func card(_ text: String) -> String { text.padding(toLength: 80, withPad: " ", startingAt: 0) }

func simpleHeader(ctype: (String, String), crval: (Double, Double)) -> [String] {
    ["CTYPE1  = '\(ctype.0)'", "CTYPE2  = '\(ctype.1)'", "CRPIX1  = 50.0", "CRPIX2  = 50.0",
     "CRVAL1  = \(crval.0)", "CRVAL2  = \(crval.1)", "CDELT1  = -0.001", "CDELT2  = 0.001"].map(card)
}

/// One of astropy's test headers, as 80-character records.
func headerRecords(_ file: String) throws -> [String] {
    let text = try String(contentsOfFile: AstropyWCSTests.astropyData + "/" + file, encoding: .ascii)
    return FITSHeader(headerText: text).records
}

/// Great-circle distance in degrees.
func separation(_ a: SkyPosition, _ b: SkyPosition) -> Double {
    let r = Double.pi / 180
    let d = sin((b.delta - a.delta) * r / 2), e = sin((b.alpha - a.alpha) * r / 2)
    let h = d * d + cos(a.delta * r) * cos(b.delta * r) * e * e
    return 2 * asin(min(1, h.squareRoot())) / r
}

final class WCSKeywordTests: XCTestCase {
    func testWCSKeywordsAreRecognized() {
        for name in ["CTYPE1", "CRPIX2", "CD1_2", "PC2_1", "PV2_10", "A_ORDER", "A_0_2", "BP_1_1", "RADESYS",
                     "EQUINOX", "CTYPE1A", "MJD-OBS", "LONPOLE"] {
            XCTAssertTrue(WorldCoordinateSystem.isWCSKeyword(name), name)
        }
        for name in ["NAXIS1", "GAIN", "EXPTIME", "OBJECT", "CDELTA", "AIRMASS", "BSCALE", "PCOUNT"] {
            XCTAssertFalse(WorldCoordinateSystem.isWCSKeyword(name), name)
        }
    }
}
