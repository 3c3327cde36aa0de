import Extraction
import Foundation
import Pipeline
import TestSupport
import XCTest

/// Debian's scamp solves two overlapping generated frames from our LDAC catalogs against a
/// reference catalog made from the generator's truth: both headers were 2" off in RA, and
/// scamp's solution puts them back on the truth.
final class SCAMPTests: XCTestCase {
    func testSCAMPSolvesOverlappingFramesFromOurLDACCatalogs() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/scamp") else {
            throw XCTSkip("scamp is not installed (scripts/setup installs it)")
        }
        let directory = try TestSupport.makeTemporaryDirectory("sextant-scamp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let truth = try python(Self.generator, directory.path)
        var parameters = ExtractionParameters()
        parameters.columns = try ColumnSelection(list: "NUMBER,XWIN_IMAGE,YWIN_IMAGE,ERRA_IMAGE,ERRB_IMAGE,ERRTHETA_IMAGE,"
                                                 + "FLUX_AUTO,FLUXERR_AUTO,FLAGS,ALPHA_J2000,DELTA_J2000")
        var catalogs: [String] = []
        for name in ["a", "b"] {
            let entry = try SkyCatalogTests.extract(directory.appendingPathComponent("\(name).fits").path,
                                                    in: directory, parameters: parameters, format: .ldac)
            XCTAssertEqual(entry.outcome, .committed, entry.error ?? "")
            catalogs.append(directory.appendingPathComponent("out/\(name).ldac.fits").path)
        }
        let run = try TestSupport.run("/usr/bin/scamp", catalogs + [
            "-c", "/dev/null", "-ASTREF_CATALOG", "FILE", "-ASTREFCAT_NAME", directory.appendingPathComponent("ref.fits").path,
            "-ASTREFCENT_KEYS", "X_WORLD,Y_WORLD", "-ASTREFERR_KEYS", "ERRA_WORLD,ERRB_WORLD", "-ASTREFMAG_KEY", "MAG",
            "-CENTROID_KEYS", "XWIN_IMAGE,YWIN_IMAGE", "-CENTROIDERR_KEYS", "ERRA_IMAGE,ERRB_IMAGE,ERRTHETA_IMAGE",
            "-CHECKPLOT_TYPE", "NONE", "-WRITE_XML", "N", "-SOLVE_PHOTOM", "N", "-DISTORT_DEGREES", "1",
            "-VERBOSE_TYPE", "QUIET",
        ], currentDirectory: directory)
        XCTAssertEqual(run.status, 0, run.stderr)
        for name in ["a", "b"] {
            let head = try String(contentsOfFile: directory.appendingPathComponent("out/\(name).ldac.head").path,
                                  encoding: .isoLatin1)
            func value(_ keyword: String) -> Double? {
                head.split(separator: "\n").first { $0.hasPrefix(keyword.padding(toLength: 8, withPad: " ", startingAt: 0) + "=") }
                    .flatMap { Double($0.dropFirst(10).split(separator: "/")[0].trimmingCharacters(in: .whitespaces)) }
            }
            let crval1 = try XCTUnwrap(value("CRVAL1")), crval2 = try XCTUnwrap(value("CRVAL2"))
            XCTAssertEqual(try XCTUnwrap(value("CRPIX1")), 400.5, accuracy: 0.01)
            XCTAssertEqual(try XCTUnwrap(value("CRPIX2")), 300.5, accuracy: 0.01)
            let trueRA = try XCTUnwrap(truth[name] as? Double)
            // The frames' headers were 2" off; scamp's solution is within 0.1" of the truth.
            XCTAssertEqual((crval1 - trueRA) * 3600 * cos(2 * Double.pi / 180), 0, accuracy: 0.1, name)
            XCTAssertEqual((crval2 - 2.0) * 3600, 0, accuracy: 0.1, name)
        }
    }

    /// Two 800x600 frames of one star field (TAN, 0.4"/pixel, 120" apart in RA), their headers'
    /// CRVAL1 2" off the truth, and an LDAC reference catalog of the true positions.
    static let generator = """
        import json, os, sys, warnings
        import numpy as np
        warnings.simplefilter('ignore')
        from astropy.io import fits
        from astropy.wcs import WCS
        out = sys.argv[1]
        rng = np.random.default_rng(3)
        n, ra0, dec0, scale = 400, 150.0, 2.0, 0.4 / 3600
        ra = ra0 + rng.uniform(-1, 1, n) * 700 * scale / np.cos(np.radians(dec0))
        dec = dec0 + rng.uniform(-1, 1, n) * 500 * scale
        mag = rng.uniform(16, 21, n)
        flux = 10 ** (-0.4 * (mag - 30))
        truth = {}
        yy, xx = np.mgrid[0:600, 0:800]
        for k, (offset, name) in enumerate([(-150, 'a'), (150, 'b')]):
            h = fits.Header()
            h['CTYPE1'], h['CTYPE2'] = 'RA---TAN', 'DEC--TAN'
            h['CRPIX1'], h['CRPIX2'] = 400.5, 300.5
            h['CRVAL1'], h['CRVAL2'] = ra0 + offset * scale / np.cos(np.radians(dec0)), dec0
            h['CD1_1'], h['CD1_2'], h['CD2_1'], h['CD2_2'] = -scale, 0.0, 0.0, scale
            h['RADESYS'], h['EQUINOX'], h['EXPTIME'], h['MJD-OBS'] = 'ICRS', 2000.0, 60.0, 60000.0 + k
            truth[name] = h['CRVAL1']
            x, y = WCS(h).all_world2pix(ra, dec, 0)
            img = rng.normal(100, 5, (600, 800)).astype(np.float32)
            for xi, yi, f in zip(x, y, flux):
                x0, x1, y0, y1 = int(max(0, xi - 8)), int(min(800, xi + 9)), int(max(0, yi - 8)), int(min(600, yi + 9))
                if x0 < x1 and y0 < y1:
                    r2 = (xx[y0:y1, x0:x1] - xi) ** 2 + (yy[y0:y1, x0:x1] - yi) ** 2
                    img[y0:y1, x0:x1] += (f / (2 * np.pi * 2.25) * np.exp(-r2 / 4.5)).astype(np.float32)
            h['CRVAL1'] += 2.0 / 3600
            fits.PrimaryHDU(img, h).writeto(os.path.join(out, name + '.fits'))
        cols = [fits.Column('X_WORLD', 'D', array=ra), fits.Column('Y_WORLD', 'D', array=dec),
                fits.Column('ERRA_WORLD', 'E', array=np.full(n, 0.05 / 3600)),
                fits.Column('ERRB_WORLD', 'E', array=np.full(n, 0.05 / 3600)),
                fits.Column('MAG', 'E', array=mag), fits.Column('MAGERR', 'E', array=np.full(n, 0.01)),
                fits.Column('OBSDATE', 'D', array=np.full(n, 2000.0))]
        head = fits.Header(); head['NAXIS'] = 2
        text = head.tostring()
        imhead = fits.BinTableHDU.from_columns([fits.Column('Field Header Card', '%dA' % len(text), array=[text])],
                                               name='LDAC_IMHEAD')
        fits.HDUList([fits.PrimaryHDU(), imhead, fits.BinTableHDU.from_columns(cols, name='LDAC_OBJECTS')]).writeto(
            os.path.join(out, 'ref.fits'))
        print(json.dumps(truth))
        """
}
