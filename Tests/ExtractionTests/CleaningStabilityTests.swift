import FITS
import Foundation
import TestSupport
import XCTest
@testable import Extraction

/// Upstream SEP has reports of source counts that change from run to run with cleaning on
/// (uninitialised memory in some builds). Ours must give the same catalog, bit for bit,
/// every time: one after another and many at once.
final class CleaningStabilityTests: XCTestCase {
    func testCleaningGivesTheSameCatalogEveryRunSeriallyAndInParallel() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "SEP's test image.fits (TestSupport.dataDirectory)")
        let fits = try FITSImage(contentsOfFile: url.path)
        let image = try SkyImage(width: fits.width, height: fits.height, pixels: fits.pixels, label: "image.fits")
        var parameters = ExtractionParameters()
        parameters.threshold = 1.0  // low: many blends and faint neighbours for cleaning to merge
        XCTAssertTrue(parameters.clean)
        let extractor = try Extractor(parameters: parameters)

        var unclean = parameters
        unclean.clean = false
        let withoutCleaning = try Extractor(parameters: unclean).extract(image).count
        let reference = try extractor.extract(image)
        XCTAssertLessThan(reference.count, withoutCleaning, "cleaning removed sources, so it was exercised")
        let expected = ConcurrencyTests.fingerprint(reference)

        for run in 0..<8 {
            let catalog = try extractor.extract(image)
            XCTAssertEqual(catalog.count, reference.count, "serial run \(run)")
            XCTAssertEqual(ConcurrencyTests.fingerprint(catalog), expected, "serial run \(run)")
        }
        let results = Locked<[[UInt64]]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let bits = (try? extractor.extract(image)).map(ConcurrencyTests.fingerprint) ?? []
            results.update { $0.append(bits) }
        }
        XCTAssertEqual(results.value.count, 16)
        for (run, bits) in results.value.enumerated() { XCTAssertEqual(bits, expected, "parallel run \(run)") }
    }
}
