import XCTest
import TestSupport
@testable import Extraction

/// Our wrapper against SExtractor's own products for image.fits (back.fits, rms.fits,
/// image.cat), with the tolerances SEP's test_sep.py (test_vs_sextractor) uses.
final class SExtractorComparisonTests: XCTestCase {
    func testBackgroundMapsMatchSExtractorWithinSEPsTolerances() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let back = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("back.fits")))
        let rms = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("rms.fits")))
        let estimate = try Extractor().measureBackground(image)
        let map = try XCTUnwrap(estimate.map)
        let rmsMap = try XCTUnwrap(estimate.rmsMap)
        // test_sep.py: assert_allclose(back, refback, rtol=1e-5); (rms, refrms, rtol=1e-4).
        assertAllClose(map, back.pixels, rtol: 1e-5, "background map")
        assertAllClose(rmsMap, rms.pixels, rtol: 1e-4, "rms map")
    }

    func testCatalogMatchesSExtractorsImageCat() throws {
        let sexFile = try XCTUnwrap(TestSupport.dataFile("default.sex"))
        let configuration = try SExtractorConfiguration.load(contentsOf: sexFile)
        // default.sex turns deblending off (DEBLEND_MINCONT 1.0), as test_sep.py does,
        // because SEP's and SExtractor's random sequences differ when deblending.
        XCTAssertEqual(configuration.parameters.deblendContrast, 1.0)
        XCTAssertEqual(configuration.parameters.apertureRadii, [5.0])
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let catalog = try Extractor(parameters: configuration.parameters).extract(image)
        let reference = try SExtractorASCIICatalog(contentsOf: try XCTUnwrap(TestSupport.dataFile("image.cat")))
        XCTAssertEqual(reference.rows.count, 65)
        XCTAssertEqual(catalog.count, reference.rows.count)

        // Match each SExtractor source to our nearest one (1-based X_IMAGE on both sides).
        let refX = reference.column("X_IMAGE"), refY = reference.column("Y_IMAGE")
        let matches = refX.indices.map { i in
            catalog.sources.indices.min { a, b in
                hypot(catalog.sources[a].xImage - refX[i], catalog.sources[a].yImage - refY[i])
                    < hypot(catalog.sources[b].xImage - refX[i], catalog.sources[b].yImage - refY[i])
            }!
        }
        XCTAssertEqual(Set(matches).count, matches.count, "one-to-one match")
        let ours = matches.map { catalog.sources[$0] }
        // test_sep.py tolerances.
        assertAllClose(ours.map(\.xImage), refX, atol: 1e-3, "X_IMAGE")
        assertAllClose(ours.map(\.yImage), refY, atol: 1e-3, "Y_IMAGE")
        assertAllClose(ours.map(\.object.x2), reference.column("X2_IMAGE"), atol: 1e-4, "X2_IMAGE")
        assertAllClose(ours.map(\.object.y2), reference.column("Y2_IMAGE"), atol: 1e-4, "Y2_IMAGE")
        assertAllClose(ours.map(\.object.xy), reference.column("XY_IMAGE"), atol: 1e-4, "XY_IMAGE")
        assertAllClose(ours.map(\.object.errx2), reference.column("ERRX2_IMAGE"), rtol: 1e-4, "ERRX2_IMAGE")
        assertAllClose(ours.map(\.object.erry2), reference.column("ERRY2_IMAGE"), rtol: 1e-4, "ERRY2_IMAGE")
        assertAllClose(ours.map { $0.photometry.apertures[0].sum }, reference.column("FLUX_APER"),
                       rtol: 2e-4, "FLUX_APER")
        assertAllClose(ours.map { $0.photometry.apertures[0].error }, reference.column("FLUXERR_APER"),
                       rtol: 1e-5, "FLUXERR_APER")

        // One tiny object has KRON_RADIUS 0 in SExtractor 2.8.6 but not in SEP (test_sep.py
        // skips it too); compare FLUX_AUTO on the others.
        let kron = reference.column("KRON_RADIUS")
        let kept = kron.indices.filter { kron[$0] > 0 }
        XCTAssertEqual(kept.count, kron.count - 1)
        assertAllClose(kept.map { ours[$0].photometry.kronRadius * 2.5 }, kept.map { kron[$0] },
                       atol: 0.01, "2.5 x KRON_RADIUS")
        assertAllClose(kept.map { ours[$0].photometry.auto.sum }, kept.map { reference.column("FLUX_AUTO")[$0] },
                       rtol: 5e-4, "FLUX_AUTO")
        assertAllClose(kept.map { ours[$0].photometry.auto.error },
                       kept.map { reference.column("FLUXERR_AUTO")[$0] }, rtol: 5e-4, "FLUXERR_AUTO")
        // FLUX_RADIUS(0.5) is the second of image.cat's three fractions (0.1, 0.5, 0.6).
        let fluxRadiusIndex = reference.columns.firstIndex(of: "FLUX_RADIUS")! + 1
        assertAllClose(kept.map { ours[$0].photometry.fluxRadius },
                       kept.map { reference.rows[$0][fluxRadiusIndex] }, rtol: 0.04, atol: 0.01, "FLUX_RADIUS")
        assertAllClose(kept.map { ours[$0].xWindowed }, kept.map { reference.column("XWIN_IMAGE")[$0] },
                       atol: 0.0015, "XWIN_IMAGE")
        assertAllClose(kept.map { ours[$0].yWindowed }, kept.map { reference.column("YWIN_IMAGE")[$0] },
                       atol: 0.0015, "YWIN_IMAGE")
    }
}

/// numpy's assert_allclose: |ours - ref| <= atol + rtol * |ref| element-wise.
func assertAllClose<T: BinaryFloatingPoint>(_ ours: [T], _ reference: [T], rtol: Double = 0, atol: Double = 0,
                                            _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    guard ours.count == reference.count else {
        XCTFail("\(name): \(ours.count) values vs \(reference.count)", file: file, line: line)
        return
    }
    let bad = ours.indices.filter {
        abs(Double(ours[$0]) - Double(reference[$0])) > atol + rtol * abs(Double(reference[$0]))
    }
    if let first = bad.first {
        XCTFail("\(name): \(bad.count) of \(ours.count) outside rtol \(rtol) atol \(atol); first at \(first): "
                + "\(ours[first]) vs \(reference[first])", file: file, line: line)
    }
}
