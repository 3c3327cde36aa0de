import Foundation
import Pipeline
import TestSupport
import XCTest

/// The catalogs a job writes, read by astropy and compared with Python sep run live on the same file.
final class CatalogReferenceTests: XCTestCase {
    func testJobCatalogMatchesPythonSepBitForBitAndAstropyReadsIt() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-reference")
        let frame = try PipelineFixtures.frames(1, in: dir.appendingPathComponent("in"), seed: 4242)[0]
        let out = dir.appendingPathComponent("out")
        let spec = JobSpec(inputs: [InputFile(uri: frame, relativePath: "f.fits")],
                           parameters: ExtractParameters(output: out.path))
        XCTAssertEqual(try PipelineFixtures.runLocal(spec).status, .succeeded)
        let catalog = out.appendingPathComponent("f.cat.fits").path

        let script = """
        import sys, numpy as np, sep
        from astropy.io import fits
        data = fits.getdata(sys.argv[1]).astype(np.float32)
        bkg = sep.Background(data)
        sub = data - bkg
        obj = sep.extract(sub, 1.5, err=bkg.globalrms)
        flux, fluxerr, flag = sep.sum_circle(sub, obj['x'], obj['y'], 3.0, err=bkg.globalrms, subpix=5)
        with fits.open(sys.argv[2]) as hdul:
            t = hdul[1].data
            h = hdul[1].header
            cols = hdul[1].columns
            units = {c.name: c.unit for c in cols}
            checks = {
                'count': len(t) == len(obj),
                'x': np.array_equal(t['X_IMAGE'], obj['x'] + 1),
                'y': np.array_equal(t['Y_IMAGE'], obj['y'] + 1),
                'flux': np.array_equal(t['FLUX_ISO'], obj['flux']),
                'a': np.array_equal(t['A_IMAGE'], obj['a'].astype(np.float64)),
                'b': np.array_equal(t['B_IMAGE'], obj['b'].astype(np.float64)),
                'theta': np.array_equal(t['THETA_IMAGE'], np.degrees(obj['theta'].astype(np.float64))),
                'aper': np.array_equal(t['FLUX_APER'].reshape(len(t), -1)[:, 0], flux),
                'apererr': np.array_equal(t['FLUXERR_APER'].reshape(len(t), -1)[:, 0], fluxerr),
                'units': units['X_IMAGE'] == 'pixel' and units['FLUX_APER'] == 'count' and units['THETA_IMAGE'] == 'deg',
                'header': h['INPUT'] == 'f.fits' and h['THRESH'] == 1.5 and h['MINAREA'] == 5,
                'background': np.float32(h['BKGRMS']) == np.float32(bkg.globalrms),
                'rows>500': len(t) > 50,
            }
        print(' '.join(f"{k}={'ok' if v else 'FAIL'}" for k, v in checks.items()))
        """
        let result = try TestSupport.python(script, arguments: [frame, catalog])
        XCTAssertFalse(result.contains("FAIL"), result)
        XCTAssertTrue(result.contains("count=ok"), result)
    }

    func testCSVCatalogHasTheSameValuesAsTheFITSOne() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-csv")
        let frame = try PipelineFixtures.frames(1, in: dir.appendingPathComponent("in"), seed: 5)[0]
        var paths: [String] = []
        for format in [CatalogFormat.fits, .csv] {
            let out = dir.appendingPathComponent("out-\(format.rawValue)")
            let spec = JobSpec(inputs: [InputFile(uri: frame, relativePath: "f.fits")],
                               parameters: ExtractParameters(output: out.path, format: format))
            XCTAssertEqual(try PipelineFixtures.runLocal(spec).status, .succeeded)
            paths.append(out.appendingPathComponent(format.catalogName(for: "f.fits")).path)
        }
        let script = """
        import sys, csv, numpy as np
        from astropy.io import fits
        t = fits.getdata(sys.argv[1], 1)
        rows = list(csv.DictReader(open(sys.argv[2])))
        ok = len(rows) == len(t) and len(rows) > 0
        for name in ['X_IMAGE', 'Y_IMAGE', 'FLUX_AUTO', 'FLUX_RADIUS', 'XWIN_IMAGE']:
            ok = ok and np.array_equal(np.array([float(r[name]) for r in rows]), t[name])
        ok = ok and np.array_equal(np.array([float(r['FLUX_APER_1']) for r in rows]), t['FLUX_APER'].reshape(len(t), -1)[:, 0])
        ok = ok and [int(r['NUMBER']) for r in rows] == list(t['NUMBER'])
        print('same' if ok else 'DIFFERENT')
        """
        XCTAssertEqual(try TestSupport.python(script, arguments: paths).trimmingCharacters(in: .whitespacesAndNewlines), "same")
    }
}
