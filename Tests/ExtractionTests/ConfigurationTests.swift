import XCTest
import TestSupport
@testable import Extraction

final class ConfigurationTests: XCTestCase {
    func testDefaultsArePythonSepDefaults() {
        let parameters = ExtractionParameters()
        XCTAssertEqual(parameters.background.boxWidth, 64)
        XCTAssertEqual(parameters.background.boxHeight, 64)
        XCTAssertEqual(parameters.background.filterWidth, 3)
        XCTAssertEqual(parameters.background.filterHeight, 3)
        XCTAssertEqual(parameters.background.filterThreshold, 0)
        XCTAssertEqual(parameters.threshold, 1.5)
        XCTAssertEqual(parameters.thresholdKind, .relative)
        XCTAssertEqual(parameters.noise, .globalRMS)
        XCTAssertEqual(parameters.minimumArea, 5)
        XCTAssertEqual(parameters.filter?.weights, [1, 2, 1, 2, 4, 2, 1, 2, 1])
        XCTAssertEqual(parameters.filterType, .convolution)
        XCTAssertEqual(parameters.deblendThresholds, 32)
        XCTAssertEqual(parameters.deblendContrast, 0.005)
        XCTAssertTrue(parameters.clean)
        XCTAssertEqual(parameters.cleanParameter, 1.0)
        XCTAssertEqual(parameters.apertureRadii, [3.0])
        XCTAssertEqual(parameters.subpixels, 5)
        XCTAssertNil(parameters.gain)
        XCTAssertEqual(parameters.kronFactor, 2.5)
        XCTAssertEqual(parameters.kronMinimumRadius, 3.5)
        XCTAssertEqual(parameters.fluxRadiusFraction, 0.5)
    }

    func testCodableRoundTripAndPartialJSONTakesDefaults() throws {
        var parameters = ExtractionParameters()
        parameters.apertureRadii = [2, 4]
        parameters.gain = 1.5
        parameters.filter = nil
        parameters.noise = .rmsMap
        let data = try JSONEncoder().encode(parameters)
        XCTAssertEqual(try JSONDecoder().decode(ExtractionParameters.self, from: data), parameters)

        let partial = try JSONDecoder().decode(ExtractionParameters.self,
                                               from: Data(#"{"threshold": 3, "background": {"boxWidth": 32}}"#.utf8))
        var expected = ExtractionParameters()
        expected.threshold = 3
        expected.background.boxWidth = 32
        XCTAssertEqual(partial, expected)
        let noFilter = try JSONDecoder().decode(ExtractionParameters.self, from: Data(#"{"filter": null}"#.utf8))
        XCTAssertNil(noFilter.filter)
    }

    func testValidationNamesTheBadValue() {
        var parameters = ExtractionParameters()
        parameters.apertureRadii = [3, -1]
        XCTAssertThrowsError(try Extractor(parameters: parameters)) { error in
            XCTAssertTrue("\(error)".contains("aperture radii"), "\(error)")
        }
    }

    func testDefaultConvParsesToTheDefaultKernel() throws {
        let kernel = try FilterKernel.load(contentsOf: try XCTUnwrap(TestSupport.dataFile("default.conv")))
        XCTAssertEqual(kernel, FilterKernel.sextractorDefault)
    }

    func testConvFormatVariantsAndErrors() throws {
        let kernel = try FilterKernel.parseConv("""
            CONV NONORM
            # 5x3 mexican-hat-ish
            -1 -1 -1 -1 -1
            -1  2  4  2 -1   # trailing comment
            -1 -1 -1 -1 -1
            """)
        XCTAssertEqual(kernel.width, 5)
        XCTAssertEqual(kernel.height, 3)
        XCTAssertFalse(kernel.normalize)
        XCTAssertEqual(kernel.weights[7], 4)

        XCTAssertThrowsError(try FilterKernel.parseConv("1 2 1\n2 4 2\n", source: "bad.conv")) {
            XCTAssertTrue("\($0)".contains("bad.conv: line 1"), "\($0)")
        }
        XCTAssertThrowsError(try FilterKernel.parseConv("CONV NORM\n1 2\n1 2 3\n", source: "ragged.conv")) {
            XCTAssertTrue("\($0)".contains("ragged.conv: line 3"), "\($0)")
        }
        XCTAssertThrowsError(try FilterKernel.parseConv("CONV NORM\n1 x 1\n", source: "nan.conv"))
        XCTAssertThrowsError(try FilterKernel.parseConv("CONV NORM\n", source: "empty.conv"))
    }

    func testDefaultSexMapsOntoParameters() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("default.sex"))
        let configuration = try SExtractorConfiguration.load(contentsOf: url)
        var expected = ExtractionParameters()
        expected.threshold = 1.5
        expected.minimumArea = 5
        expected.filter = .sextractorDefault        // FILTER Y, FILTER_NAME default.conv beside it
        expected.deblendThresholds = 32
        expected.deblendContrast = 1.0
        expected.clean = true
        expected.cleanParameter = 1.0
        expected.apertureRadii = [5.0]              // PHOT_APERTURES 10.0 is a diameter
        expected.kronFactor = 2.5
        expected.kronMinimumRadius = 0.0            // PHOT_AUTOPARAMS 2.5, 0.0
        expected.gain = nil                         // GAIN 0.0 means none
        expected.saturationLevel = 50000            // SATUR_LEVEL
        expected.checkImages = [CheckImageRequest(type: .background, name: "back.fits"),
                                CheckImageRequest(type: .backgroundRMS, name: "rms.fits")]
        XCTAssertEqual(configuration.parameters, expected)
        for key in ["CATALOG_NAME", "ANALYSIS_THRESH", "MEMORY_PIXSTACK", "PHOT_FLUXFRAC"] {
            XCTAssertTrue(configuration.warnings.contains { $0.contains(key) }, "no warning for \(key)")
        }
        XCTAssertFalse(configuration.warnings.contains { $0.contains("DETECT_THRESH") })
    }

    func testSexVariants() throws {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-sex")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "CONV NORM\n0 1 0\n1 4 1\n0 1 0\n".write(to: directory.appendingPathComponent("my.conv"),
                                                   atomically: true, encoding: .utf8)
        let text = """
            DETECT_THRESH   3.0, 25.0
            THRESH_TYPE     ABSOLUTE
            FILTER_NAME     my.conv
            PHOT_APERTURES  4,8 , 12
            BACK_SIZE       32,48
            BACK_FILTERSIZE 5
            GAIN            2.2   # e-/ADU
            CLEAN           N
            """
        let configuration = try SExtractorConfiguration.parse(text, directory: directory)
        let parameters = configuration.parameters
        XCTAssertEqual(parameters.threshold, 3.0)
        XCTAssertEqual(parameters.thresholdKind, .absolute)
        XCTAssertEqual(parameters.filter?.weights, [0, 1, 0, 1, 4, 1, 0, 1, 0])
        XCTAssertEqual(parameters.apertureRadii, [2, 4, 6])
        XCTAssertEqual(parameters.background.boxWidth, 32)
        XCTAssertEqual(parameters.background.boxHeight, 48)
        XCTAssertEqual(parameters.background.filterWidth, 5)
        XCTAssertEqual(parameters.background.filterHeight, 5)
        XCTAssertEqual(parameters.gain, 2.2)
        XCTAssertFalse(parameters.clean)
        XCTAssertTrue(configuration.warnings.contains { $0.contains("DETECT_THRESH") })

        let off = try SExtractorConfiguration.parse("FILTER N\nFILTER_NAME missing.conv\n", directory: directory)
        XCTAssertNil(off.parameters.filter)
        XCTAssertThrowsError(try SExtractorConfiguration.parse("FILTER_NAME missing.conv\n", directory: directory)) {
            XCTAssertTrue("\($0)".contains("missing.conv"), "\($0)")
        }
        XCTAssertThrowsError(try SExtractorConfiguration.parse("DETECT_MINAREA five\n", source: "x.sex",
                                                               directory: directory)) {
            XCTAssertTrue("\($0)".contains("x.sex: line 1: DETECT_MINAREA"), "\($0)")
        }
    }
}

/// Choosing columns: .param files, --columns lists, sizes, and what each choice measures.
final class ColumnSelectionTests: XCTestCase {
    func testDefaultParamFileOfTheTestDataParses() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("default.sex"))
        let configuration = try SExtractorConfiguration.load(contentsOf: url)
        let columns = try XCTUnwrap(configuration.columns, "default.sex names default.param")
        XCTAssertEqual(columns.requests?.map(\.description).prefix(3), ["NUMBER", "X_IMAGE", "Y_IMAGE"])
        XCTAssertTrue(columns.requests!.contains(ColumnRequest(name: "FLUX_APER", sizes: [1])))
    }

    func testListSplitsOutsideParentheses() throws {
        let selection = try ColumnSelection(list: "NUMBER, X_IMAGE,VIGNET(35,35),flux_aper(2)")
        XCTAssertEqual(selection.requests, [ColumnRequest(name: "NUMBER"), ColumnRequest(name: "X_IMAGE"),
                                            ColumnRequest(name: "VIGNET", sizes: [35, 35]),
                                            ColumnRequest(name: "FLUX_APER", sizes: [2])])
    }

    func testUnknownNameListsTheValidOnes() {
        XCTAssertThrowsError(try ColumnSelection(list: "NUMBER,MAG_BEST")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("unknown column MAG_BEST"), text)
            XCTAssertTrue(text.contains("FLUX_APER(n)") && text.contains("VIGNET(w,h)") && text.contains("ALPHA_J2000"), text)
        }
        XCTAssertThrowsError(try ColumnSelection(list: "VIGNET"))   // needs a size
        XCTAssertThrowsError(try ColumnSelection(list: "X_IMAGE(2)"))
        XCTAssertThrowsError(try ColumnSelection(list: "X_IMAGE,X_IMAGE"))
        XCTAssertThrowsError(try ColumnSelection(paramText: "NUMBER\nFLUX_APER(2\n"))
    }

    func testTooManyAperturesIsAnError() throws {
        let selection = try ColumnSelection(list: "FLUX_APER(3)")
        XCTAssertNoThrow(try selection.validate(apertureCount: 3))
        XCTAssertThrowsError(try selection.validate(apertureCount: 2))
    }

    func testPlansMeasureOnlyWhatIsNeeded() throws {
        let cheap = try ColumnSelection(list: "X_IMAGE,Y_IMAGE,FLUX_APER").plan(apertureCount: 1)
        XCTAssertEqual(cheap, MeasurementPlan(apertures: true))
        XCTAssertFalse(cheap.auto || cheap.fluxRadius || cheap.windowed)
        let windowed = try ColumnSelection(list: "XWIN_IMAGE").plan(apertureCount: 1)
        XCTAssertTrue(windowed.auto && windowed.fluxRadius && windowed.windowed && !windowed.apertures)
        var standard = MeasurementPlan.all
        standard.sextractorFlags = true  // FLAGS
        XCTAssertEqual(try ColumnSelection.standard.plan(apertureCount: 1), standard)
    }
}
