import XCTest
import TestSupport
@testable import Extraction

/// Bad or degenerate input gives a clear error or an honest empty catalog, never a crash.
final class EdgeCaseTests: XCTestCase {
    func testZeroSizeAndMismatchedImagesAreRejectedWithTheirLabel() {
        XCTAssertThrowsError(try SkyImage(width: 0, height: 0, pixels: [], label: "empty.fits")) {
            XCTAssertEqual("\($0)", "empty.fits: image has no pixels (0x0)")
        }
        XCTAssertThrowsError(try SkyImage(width: 4, height: 4, pixels: [1, 2, 3], label: "short.fits")) {
            XCTAssertTrue("\($0)".contains("short.fits: image has 3 pixels but is declared 4x4"), "\($0)")
        }
        XCTAssertThrowsError(try SkyImage(width: 2, height: 2, pixels: [1, 2, 3, 4], mask: [true], label: "m.fits")) {
            XCTAssertTrue("\($0)".contains("m.fits: image has a mask of 1 entries"), "\($0)")
        }
    }

    func testAllNaNAndAllMaskedImagesThrowNoUsablePixels() throws {
        let nan = try SkyImage(width: 64, height: 64, pixels: .init(repeating: .nan, count: 4096), label: "nan.fits")
        XCTAssertThrowsError(try Extractor().extract(nan)) {
            XCTAssertEqual($0 as? ExtractionError, .noUsablePixels("nan.fits"))
        }
        let masked = try SkyImage(width: 64, height: 64, pixels: .init(repeating: 5, count: 4096),
                                  mask: .bytes(.init(repeating: 1, count: 4096)), label: "masked.fits")
        XCTAssertThrowsError(try Extractor().extract(masked)) {
            XCTAssertEqual($0 as? ExtractionError, .noUsablePixels("masked.fits"))
        }
        let blank = try SkyImage(width: 8, height: 8, pixels: .init(repeating: -1e31, count: 64), label: "blank")
        XCTAssertThrowsError(try Extractor().extract(blank))
    }

    func testFlatAndTinyImagesGiveEmptyCatalogs() throws {
        let flat = try SkyImage(width: 100, height: 80, pixels: .init(repeating: 100, count: 8000))
        let catalog = try Extractor().extract(flat)
        XCTAssertEqual(catalog.count, 0)
        XCTAssertEqual(catalog.backgroundLevel, 100)
        XCTAssertEqual(catalog.columns.count, Catalog.columnDescriptions(apertureCount: 1).count)

        let single = try SkyImage(width: 1, height: 1, pixels: [42])
        XCTAssertEqual(try Extractor().extract(single).count, 0)
    }

    func testMaskedHalfYieldsSourcesOnlyInTheUnmaskedHalf() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let half = image.height / 2
        let mask = (0..<image.pixels.count).map { $0 / image.width >= half }
        let masked = try SkyImage(width: image.width, height: image.height, pixels: image.pixels, mask: mask)
        let catalog = try Extractor().extract(masked)
        XCTAssertGreaterThan(catalog.count, 10)
        XCTAssertTrue(catalog.sources.allSatisfy { $0.object.y < Double(half) })
        let unmasked = try Extractor().extract(image)
        XCTAssertGreaterThan(unmasked.sources.filter { $0.object.y >= Double(half) }.count, 10)
    }

    func testSomeNaNPixelsDoNotCrash() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        var pixels = image.pixels
        for index in stride(from: 0, to: pixels.count, by: 97) { pixels[index] = .nan }
        let catalog = try Extractor().extract(try SkyImage(width: image.width, height: image.height, pixels: pixels))
        XCTAssertGreaterThan(catalog.count, 0)
        XCTAssertTrue(catalog.sources.contains { $0.photometry.auto.sum.isNaN },
                      "this NaN pattern makes SEP reject at least one Kron ellipse")
        // Objects whose apertures SEP rejects keep their row, with NaN and the failed flag.
        for source in catalog.sources where source.photometry.auto.sum.isNaN {
            XCTAssertNotEqual(source.sepFlags & Int(SourcePhotometry.failedFlag), 0)
        }
    }
}

/// PIXSTACK_FULL and DEBLEND_OVERFLOW: one retry with larger process-wide limits.
final class RetryTests: XCTestCase {
    let library = SEPLibrary.shared

    func testTinyPixelStackSucceedsThroughTheRetryOrGoesOnWithAStackThatFits() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let baseline = try Extractor().extract(image)
        let savedStack = library.pixelStack, savedFactor = library.retryFactor
        defer { library.pixelStack = savedStack; library.retryFactor = savedFactor }

        library.pixelStack = 40
        library.retryFactor = 2
        // 40 and then 80 pixels are too few: SExtractor would flag and go on; this goes on with
        // a stack of one entry per image pixel, so nothing is lost and the header says so.
        var goneOn = try Extractor().extract(image)
        XCTAssertEqual(goneOn.notes.count, 1)
        XCTAssertTrue(goneOn.notes[0].contains("pixel stack overflowed"), goneOn.notes[0])
        goneOn.notes = []
        XCTAssertEqual(goneOn, baseline)
        XCTAssertEqual(library.pixelStack, 40, "the retry restores the setting")

        library.retryFactor = 100_000
        XCTAssertEqual(try Extractor().extract(image), baseline, "retry with 4,000,000 pixels")
        XCTAssertEqual(library.pixelStack, 40)
    }

    func testSubObjectOverflowIsRetriedWithALargerLimitThenFlagged() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        var parameters = ExtractionParameters()
        parameters.deblendContrast = 0.001
        let baseline = try Extractor(parameters: parameters).extract(image)
        let savedLimit = library.subObjectLimit, savedFactor = library.retryFactor
        defer { library.subObjectLimit = savedLimit; library.retryFactor = savedFactor }

        library.subObjectLimit = 1
        library.retryFactor = 2
        // Still too few after the retry: extracted without deblending, every object flagged 64.
        let flagged = try Extractor(parameters: parameters).extract(image)
        XCTAssertTrue(flagged.sources.allSatisfy { $0.sextractorFlags & 64 != 0 })
        XCTAssertTrue(flagged.sources.allSatisfy { $0.sextractorFlags & 2 == 0 }, "nothing was deblended")
        XCTAssertTrue(flagged.notes.first?.contains("without deblending") == true, "\(flagged.notes)")
        XCTAssertLessThan(flagged.count, baseline.count)
        XCTAssertTrue(baseline.sources.contains { $0.sextractorFlags & 2 != 0 }, "the frame has blends")
        library.retryFactor = 4096
        XCTAssertEqual(try Extractor(parameters: parameters).extract(image), baseline)
        XCTAssertEqual(library.subObjectLimit, 1)
    }
}

final class MaskTests: XCTestCase {
    /// Bool and byte masks reach SEP as the same SEP_TBYTE array, and `mask: nil` means none.
    func testBoolAndByteMasksAgreeAndMatchNoMaskWhereNothingIsMasked() throws {
        let image = try readFITSWithAstropy(try XCTUnwrap(TestSupport.dataFile("image.fits")))
        let flags = (0..<image.pixels.count).map { ($0 % image.width) < 40 }
        let bools = try SkyImage(width: image.width, height: image.height, pixels: image.pixels, mask: flags)
        let bytes = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                                 mask: flags.map { $0 ? UInt8(7) : 0 })
        let byBools = try Extractor().extract(bools)
        XCTAssertEqual(byBools, try Extractor().extract(bytes))
        XCTAssertTrue(byBools.sources.allSatisfy { $0.object.xmin >= 40 })

        let none = try SkyImage(width: image.width, height: image.height, pixels: image.pixels, mask: nil)
        let clear = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                                 mask: [Bool](repeating: false, count: image.pixels.count))
        XCTAssertEqual(try Extractor().extract(none), try Extractor().extract(clear))
    }
}
