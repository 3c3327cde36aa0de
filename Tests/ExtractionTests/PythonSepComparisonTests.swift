import XCTest
import TestSupport
@testable import Extraction

/// Our wrapper against Python's sep 1.2.1 making the same calls on the same float32 pixels:
/// every value must have the same bits.
final class PythonSepComparisonTests: XCTestCase {
    func testImageFitsIsBitIdenticalToPythonSep() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "image.fits not found")
        let reference = try PythonReference.fits(url)
        XCTAssertEqual(reference.count, 69)
        try assertMatchesReference(reference)
    }

    func testBackgroundMapsAreBitIdenticalToPythonSep() throws {
        let url = try TestSupport.m51OrStandIn().url
        var parameters = ExtractionParameters()
        parameters.background.boxWidth = 32
        parameters.background.filterHeight = 5
        let reference = try PythonReference.fits(url, parameters: parameters)
        let image = try SkyImage(width: reference.width, height: reference.height, pixels: reference.pixels)
        let (catalog, background) = try Extractor(parameters: parameters).extractWithBackground(image)
        XCTAssertEqual(catalog.count, reference.count)
        assertBitIdentical(try XCTUnwrap(background.map).map(Double.init), reference.backgroundMap.map(Double.init), "back")
        assertBitIdentical(try XCTUnwrap(background.rmsMap).map(Double.init), reference.rmsMap.map(Double.init), "rms")
        XCTAssertEqual(Double(background.level).bitPattern, reference.backgroundLevel.bitPattern)
    }

    func testM51IsBitIdenticalToPythonSep() throws {
        let (url, isReal) = try TestSupport.m51OrStandIn()
        let reference = try PythonReference.fits(url)
        if isReal {
            XCTAssertEqual(reference.count, 34)
        } else {
            XCTAssertGreaterThan(reference.count, 12, "the stand-in's stars and deblended galaxy")
        }
        try assertMatchesReference(reference)
    }

    func testSyntheticStarFieldIsBitIdenticalToPythonSep() throws {
        let reference = try PythonReference.synthetic(seed: 20261125, size: 1024, stars: 300)
        XCTAssertGreaterThan(reference.count, 200, "the synthetic frame should show most of its 300 stars")
        try assertMatchesReference(reference)
    }

    func testSeveralAperturesGainAndOtherParametersStayBitIdentical() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "image.fits not found")
        var parameters = ExtractionParameters()
        parameters.apertureRadii = [2.0, 5.0, 8.5]
        parameters.gain = 2.5
        parameters.threshold = 3.0
        parameters.minimumArea = 8
        parameters.deblendContrast = 0.05
        parameters.background.boxWidth = 32
        parameters.background.boxHeight = 48
        parameters.kronMinimumRadius = 1.75
        let reference = try PythonReference.fits(url, parameters: parameters)
        XCTAssertGreaterThan(reference.count, 0)
        let catalog = try assertMatchesReference(reference, parameters: parameters)
        XCTAssertEqual(catalog.sources.first?.photometry.apertures.count, 3)
    }
}

/// The other noise and filter choices, against Python sep given the same choices.
final class NoiseChoiceTests: XCTestCase {
    func testRMSMapNoiseIsBitIdenticalToPythonSepWithErrRMSMap() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "image.fits not found")
        var parameters = ExtractionParameters()
        parameters.noise = .rmsMap
        let reference = try PythonReference.fits(url, parameters: parameters)
        let catalog = try assertMatchesReference(reference, parameters: parameters)
        let global = try Extractor().extract(readFITSWithAstropy(url))
        XCTAssertNotEqual(catalog.sources.map { $0.photometry.apertures[0].error },
                          global.sources.prefix(catalog.count).map { $0.photometry.apertures[0].error },
                          "a noise map gives other errors than the global rms")
    }

    func testMatchedFilterWithRMSMapIsBitIdenticalToPythonSep() throws {
        let url = try TestSupport.m51OrStandIn().url
        var parameters = ExtractionParameters()
        parameters.noise = .rmsMap
        parameters.filterType = .matched
        let reference = try PythonReference.fits(url, parameters: parameters)
        try assertMatchesReference(reference, parameters: parameters)
    }

    func testAbsoluteThresholdEqualToRelativeTimesRMSGivesTheSameCatalog() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let relative = try Extractor().extract(image)
        var parameters = ExtractionParameters()
        parameters.thresholdKind = .absolute
        // SEP turns a relative threshold into thresh * sigma in float32.
        parameters.threshold = Double(Float(1.5) * relative.backgroundRMS)
        let absolute = try Extractor(parameters: parameters).extract(image)
        XCTAssertEqual(absolute, relative)
        parameters.threshold *= 2
        XCTAssertLessThan(try Extractor(parameters: parameters).extract(image).count, relative.count)
    }
}

/// SExtractor names and conventions in the catalog columns.
final class CatalogColumnTests: XCTestCase {
    func testColumnsFollowSExtractorConventions() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        var parameters = ExtractionParameters()
        parameters.apertureRadii = [2, 4]
        let catalog = try Extractor(parameters: parameters).extract(image)
        let columns = catalog.columns
        XCTAssertEqual(columns.map(\.description.name), [
            "NUMBER", "X_IMAGE", "Y_IMAGE", "X2_IMAGE", "Y2_IMAGE", "XY_IMAGE", "A_IMAGE", "B_IMAGE",
            "THETA_IMAGE", "CXX_IMAGE", "CYY_IMAGE", "CXY_IMAGE", "ISOAREA_IMAGE", "FLUX_ISO", "FLUX_MAX",
            "XMIN_IMAGE", "YMIN_IMAGE", "XMAX_IMAGE", "YMAX_IMAGE", "FLUX_APER", "FLUXERR_APER",
            "KRON_RADIUS", "FLUX_AUTO", "FLUXERR_AUTO", "FLUX_RADIUS", "XWIN_IMAGE", "YWIN_IMAGE", "FLAGS"])
        XCTAssertEqual(columns.map(\.description), Catalog.columnDescriptions(apertureCount: 2))
        func column(_ name: String) -> CatalogColumn.Values { columns.first { $0.description.name == name }!.values }

        let objects = catalog.sources.map(\.object)
        XCTAssertEqual(column("NUMBER"), .integers(Array(1...catalog.count)))
        XCTAssertEqual(column("X_IMAGE"), .reals(objects.map { $0.x + 1 }))
        XCTAssertEqual(column("XMIN_IMAGE"), .integers(objects.map { Int($0.xmin) + 1 }))
        XCTAssertEqual(column("THETA_IMAGE"), .reals(objects.map { Double($0.theta) * 180 / .pi }))
        guard case .reals(let theta) = column("THETA_IMAGE") else { return XCTFail() }
        XCTAssertTrue(theta.allSatisfy { $0 > -90.0001 && $0 <= 90.0001 })
        guard case .realVectors(let apertures, let length) = column("FLUX_APER") else { return XCTFail() }
        XCTAssertEqual(length, 2)
        XCTAssertEqual(apertures.count, 2 * catalog.count)
        XCTAssertEqual(apertures[3], catalog.sources[1].photometry.apertures[1].sum)
        guard case .reals(let xwin) = column("XWIN_IMAGE") else { return XCTFail() }
        XCTAssertEqual(xwin, catalog.sources.map { $0.photometry.xWindowed + 1 })
        guard case .integers(let flags) = column("FLAGS") else { return XCTFail() }
        // FLAGS has SExtractor's bits: 8 is truncated, SEP's SEP_OBJ_TRUNC (0x2) moved there.
        XCTAssertEqual(flags.map { $0 & 8 != 0 }, objects.map { $0.flag & 0x2 != 0 })
        XCTAssertTrue(flags.contains { $0 & 8 != 0 }, "some objects touch the image edge")
        XCTAssertEqual(flags.map { $0 & 2 != 0 }, objects.map { $0.flag & 0x1 != 0 }, "bit 2 is deblended")
    }
}

final class MaskedComparisonTests: XCTestCase {
    func testMaskedImageIsBitIdenticalToPythonSepWithTheSameMask() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "image.fits not found")
        let reference = try PythonReference.fits(url, maskedColumns: 100)
        let catalog = try assertMatchesReference(reference, maskedColumns: 100)
        // Plain SEP 1.2.1 finds two objects in the masked top row here (see zeroMaskedPixels).
        XCTAssertTrue(catalog.sources.allSatisfy { $0.object.xmin >= 100 })
        XCTAssertTrue(catalog.sources.contains { $0.sepFlags & 0x0020 != 0 },
                      "apertures overlapping the mask say so (SEP_APER_HASMASKED)")
    }
}
