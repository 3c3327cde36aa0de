import Foundation
import TestSupport
import XCTest
@testable import Extraction

/// A chosen set of columns gives exactly the values of the full catalog, without measuring the rest.
final class SelectedColumnsTests: XCTestCase {
    func testPositionsAndAperturesAreTheFullCatalogsValuesWithoutAutoOrWindowed() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let extractor = try Extractor()
        let full = try extractor.extract(image)
        let selection = try ColumnSelection(list: "NUMBER,X_IMAGE,Y_IMAGE,FLUX_APER,FLUXERR_APER,FLAGS")
        let cheap = try extractor.extract(image, columns: selection)
        XCTAssertEqual(cheap.columns.map(\.description.name), ["NUMBER", "X_IMAGE", "Y_IMAGE", "FLUX_APER", "FLUXERR_APER", "FLAGS"])
        let fullColumns = Dictionary(uniqueKeysWithValues: full.columns.map { ($0.description.name, $0.values) })
        for column in cheap.columns where column.description.name != "FLAGS" {
            XCTAssertEqual(column.values, fullColumns[column.description.name], column.description.name)
        }
        XCTAssertTrue(cheap.sources.allSatisfy { $0.photometry.kronRadius.isNaN && $0.photometry.xWindowed.isNaN },
                      "Kron and windowed positions were not measured")
        XCTAssertTrue(full.sources.allSatisfy { !$0.photometry.kronRadius.isNaN })
    }

    func testDerivedColumnsFollowSExtractorsDefinitions() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        var parameters = ExtractionParameters()
        parameters.magnitudeZeroPoint = 25
        parameters.gain = 2
        let selection = try ColumnSelection(list: "FLUX_APER,MAG_APER,MAGERR_APER,MAG_ISO,FLUXERR_ISO,MAG_AUTO,ELONGATION,ELLIPTICITY,ERRA_IMAGE,ERRB_IMAGE,ERRTHETA_IMAGE,THRESHOLD,BACKGROUND,VIGNET(5,7)")
        let catalog = try Extractor(parameters: parameters).extract(image, columns: selection)
        let columns = Dictionary(uniqueKeysWithValues: catalog.columns.map { ($0.description.name, $0.values) })
        guard case .realVectors(let flux, 1)? = columns["FLUX_APER"], case .realVectors(let mag, 1)? = columns["MAG_APER"],
              case .realVectors(let magErr, 1)? = columns["MAGERR_APER"],
              case .reals(let elongation)? = columns["ELONGATION"], case .reals(let erra)? = columns["ERRA_IMAGE"],
              case .reals(let errb)? = columns["ERRB_IMAGE"], case .reals(let background)? = columns["BACKGROUND"],
              case .realVectors(let vignets, 35)? = columns["VIGNET"], case .reals(let fluxErrISO)? = columns["FLUXERR_ISO"] else {
            return XCTFail("missing columns: \(columns.keys.sorted())")
        }
        for (i, source) in catalog.sources.enumerated() {
            let sum = source.photometry.apertures[0]
            XCTAssertEqual(flux[i], sum.sum)
            XCTAssertEqual(mag[i], sum.sum > 0 ? 25 - 2.5 * log10(sum.sum) : 99, accuracy: 1e-12)
            XCTAssertEqual(magErr[i], sum.sum > 0 ? 1.0857362047581294 * sum.error / sum.sum : 99, accuracy: 1e-12)
            XCTAssertEqual(elongation[i], Double(source.object.a / source.object.b), accuracy: 1e-6)
            XCTAssertGreaterThanOrEqual(erra[i], errb[i])
            // ERRA^2 + ERRB^2 is the trace of the position covariance.
            XCTAssertEqual(erra[i] * erra[i] + errb[i] * errb[i], source.object.errx2 + source.object.erry2, accuracy: 1e-9)
            let npix = Double(source.object.npix), rms = Double(catalog.backgroundRMS), f = Double(source.object.flux)
            XCTAssertEqual(fluxErrISO[i], (npix * rms * rms + max(f, 0) / 2).squareRoot(), accuracy: 1e-9)
            XCTAssertEqual(background[i], Double(catalog.backgroundLevel), accuracy: 50, "near the global level")
            // The stamp's centre (2, 3) is the object's own pixel.
            let centre = vignets[i * 35 + 3 * 5 + 2]
            XCTAssertTrue(centre > -1e29, "centre pixel is in the image")
        }
        XCTAssertGreaterThan(catalog.count, 30)
    }

    /// FWHM_IMAGE's fit runs over every object only when the column is chosen; otherwise only the
    /// seeing stars (the frame table's FWHM) are fitted, to the same values.
    func testFWHMIsFittedOnlyWhereItIsUsed() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let extractor = try Extractor()
        let asked = try extractor.extract(image, columns: try ColumnSelection(list: "NUMBER,FWHM_IMAGE,FLAGS"))
        let plain = try extractor.extract(image)
        XCTAssertEqual(asked.count, plain.count)
        var stars = 0, others = 0
        for (withColumn, without) in zip(asked.sources, plain.sources) {
            if FWHMEstimate.isSeeingStar(without.object, flags: without.sextractorFlags, backgroundRMS: plain.backgroundRMS) {
                XCTAssertEqual(without.object.fwhm, withColumn.object.fwhm)
                stars += 1
            } else {
                XCTAssertEqual(without.object.fwhm, 0, "object \(without.number) was not fitted")
                if withColumn.object.fwhm > 0 { others += 1 }
            }
        }
        XCTAssertGreaterThan(stars, 0)
        XCTAssertGreaterThan(others, stars, "the column fits the other objects too")
    }
}
