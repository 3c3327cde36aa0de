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

    func testM51IsBitIdenticalToPythonSep() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("m51_skimage.fits"), "m51_skimage.fits not found")
        let reference = try PythonReference.fits(url)
        XCTAssertEqual(reference.count, 34)
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
