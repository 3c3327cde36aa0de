import Engine
import Extraction
import FITS
import Foundation
import Pipeline
import TestSupport
import XCTest

/// FITS_LDAC read by a real client (Debian's psfex), and multi-extension files whose every
/// image HDU is cataloged, each as if extracted alone.
final class LDACAndMEFTests: XCTestCase {
    static let psfexColumns = "NUMBER,X_IMAGE,Y_IMAGE,XWIN_IMAGE,YWIN_IMAGE,FLUX_APER(1),FLUXERR_APER(1),"
        + "FLUX_RADIUS,ELONGATION,FLAGS,SNR_WIN,VIGNET(25,25)"

    func testPSFExBuildsAPSFFromOurLDACCatalog() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/psfex") else {
            throw XCTSkip("psfex is not installed (scripts/setup installs it)")
        }
        let directory = try TestSupport.makeTemporaryDirectory("sextant-ldac")
        defer { try? FileManager.default.removeItem(at: directory) }
        let frame = try PipelineFixtures.frames(1, in: directory.appendingPathComponent("in"))[0]
        var parameters = ExtractionParameters()
        parameters.columns = try ColumnSelection(list: Self.psfexColumns)
        let entry = try SkyCatalogTests.extract(frame, in: directory, parameters: parameters, format: .ldac)
        XCTAssertEqual(entry.outcome, .committed, entry.error ?? "")
        let catalog = directory.appendingPathComponent("out").appendingPathComponent(try XCTUnwrap(entry.catalog))
        XCTAssertTrue(catalog.path.hasSuffix(".ldac.fits"))
        let run = try TestSupport.run("/usr/bin/psfex", [catalog.path, "-c", "/dev/null", "-PSF_DIR", directory.path,
                                                          "-CHECKPLOT_TYPE", "NONE", "-CHECKIMAGE_TYPE", "NONE",
                                                          "-WRITE_XML", "N", "-VERBOSE_TYPE", "QUIET"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let psf = directory.appendingPathComponent(catalog.deletingPathExtension().lastPathComponent + ".psf")
        let model = try python("""
            import json, sys
            from astropy.io import fits
            h = fits.open(sys.argv[1])[1].header
            print(json.dumps({'accepted': h['ACCEPTED'], 'fwhm': h['PSF_FWHM']}))
            """, psf.path)
        XCTAssertGreaterThan(model["accepted"] as? Int ?? 0, 10, "psfex used our stars")
        // The generator's stars have a 3.5-pixel FWHM.
        XCTAssertEqual(model["fwhm"] as? Double ?? 0, 3.5, accuracy: 0.3)
    }

    func testThreeCCDFileGivesThreeCatalogsEachEqualToItsHDUAlone() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-mef")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ccds = try (0..<3).map { try SkyCatalogTests.frame(in: directory, keywords: [], seed: 30 + UInt64($0), name: "ccd\($0).fits") }
        let mef = directory.appendingPathComponent("mosaic.fits").path
        // An empty primary, then three named image extensions, as mosaic cameras write them.
        _ = try python("""
            import json, sys
            from astropy.io import fits
            hdus = [fits.PrimaryHDU()]
            for i, path in enumerate(sys.argv[2:]):
                hdus.append(fits.ImageHDU(fits.getdata(path), name='CCD%d' % (i + 1)))
            fits.HDUList(hdus).writeto(sys.argv[1])
            print('{}')
            """, mef, ccds[0], ccds[1], ccds[2])

        let all = try SkyCatalogTests.extract(mef, in: directory)
        XCTAssertEqual(all.outcome, .committed, all.error ?? "")
        XCTAssertEqual(all.hdus?.map(\.hdu), [1, 2, 3])
        XCTAssertEqual(all.hdus?.map(\.extname), ["CCD1", "CCD2", "CCD3"])
        let out = directory.appendingPathComponent("out")
        let combined = out.appendingPathComponent("mosaic.cat.fits").path
        var alone: [String] = []
        for hdu in 1...3 {
            let entry = try SkyCatalogTests.extract(mef, in: directory.appendingPathComponent("hdu\(hdu)"), hdu: "\(hdu)")
            XCTAssertEqual(entry.rows, all.hdus?[hdu - 1].rows)
            XCTAssertNil(entry.hdus)
            alone.append(directory.appendingPathComponent("hdu\(hdu)/out/mosaic.cat.fits").path)
        }
        let report = try python("""
            import json, sys
            import numpy as np
            from astropy.io import fits
            combined = fits.open(sys.argv[1])
            same = []
            for i, path in enumerate(sys.argv[2:]):
                a, b = combined[i + 1], fits.open(path)[1]
                same.append(a.header['INHDU'] == i + 1 and a.header['INEXTNM'] == 'CCD%d' % (i + 1)
                            and a.data.tobytes() == b.data.tobytes() and len(a.data) > 0)
            print(json.dumps({'tables': len(combined) - 1, 'same': same}))
            """, combined, alone[0], alone[1], alone[2])
        XCTAssertEqual(report["tables"] as? Int, 3)
        XCTAssertEqual(report["same"] as? [Bool], [true, true, true], "each table equals that HDU extracted alone")

        // LDAC: one LDAC_IMHEAD + LDAC_OBJECTS pair per CCD, each image header kept.
        let ldac = try SkyCatalogTests.extract(mef, in: directory.appendingPathComponent("ldac"), format: .ldac)
        XCTAssertEqual(ldac.outcome, .committed, ldac.error ?? "")
        let layout = try python("""
            import json, sys
            from astropy.io import fits
            f = fits.open(sys.argv[1])
            heads = [fits.Header.fromstring(''.join(h.data[0][0].tolist()) if not isinstance(h.data[0][0], str) else h.data[0][0])
                     for h in f if h.name == 'LDAC_IMHEAD']
            print(json.dumps({'names': [h.name for h in f][1:], 'extnames': [h.get('EXTNAME') for h in heads],
                              'rows': [len(h.data) for h in f if h.name == 'LDAC_OBJECTS']}))
            """, directory.appendingPathComponent("ldac/out/mosaic.ldac.fits").path)
        XCTAssertEqual(layout["names"] as? [String], ["LDAC_IMHEAD", "LDAC_OBJECTS", "LDAC_IMHEAD", "LDAC_OBJECTS",
                                                        "LDAC_IMHEAD", "LDAC_OBJECTS"])
        XCTAssertEqual(layout["extnames"] as? [String], ["CCD1", "CCD2", "CCD3"])
        XCTAssertEqual(layout["rows"] as? [Int], all.hdus?.compactMap(\.rows))
    }
}
