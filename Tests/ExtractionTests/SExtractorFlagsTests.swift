import FITS
import Foundation
import TestSupport
import XCTest
@testable import Extraction

/// FLAGS, weights, the flag image and check images against Debian's source-extractor 2.25 run
/// with the same .sex on a generated frame (saturated stars, a weight map with a dead stripe
/// and a gradient, a flag image): issue 15's "how we know it is right".
final class SExtractorFlagsTests: XCTestCase {
    static let sex = """
        DETECT_THRESH    1.5
        DETECT_MINAREA   5
        FILTER           N
        DEBLEND_NTHRESH  32
        DEBLEND_MINCONT  0.005
        CLEAN            Y
        MASK_TYPE        NONE
        INTERP_TYPE      NONE
        BACK_SIZE        64
        BACK_FILTERSIZE  3
        PHOT_APERTURES   6
        PHOT_AUTOPARAMS  2.5, 3.5
        SATUR_LEVEL      50000
        SATUR_KEY        SATURATE
        GAIN             0
        WEIGHT_TYPE      MAP_WEIGHT
        WEIGHT_IMAGE     weight.fits
        WEIGHT_GAIN      Y
        FLAG_IMAGE       flag.fits
        FLAG_TYPE        OR
        PARAMETERS_NAME  flags.param
        CATALOG_NAME     sex.cat
        CATALOG_TYPE     ASCII_HEAD
        CHECKIMAGE_TYPE  BACKGROUND,BACKGROUND_RMS,SEGMENTATION
        CHECKIMAGE_NAME  back.fits,rms.fits,seg.fits
        VERBOSE_TYPE     QUIET
        """
    static let param = ["NUMBER", "X_IMAGE", "Y_IMAGE", "FLAGS", "IMAFLAGS_ISO", "NIMAFLAGS_ISO", "ISOAREA_IMAGE",
                        "FLUX_ISO", "FLUX_APER(1)", "FLUXERR_APER(1)", "FLUX_AUTO", "XWIN_IMAGE", "YWIN_IMAGE",
                        "FLUX_WIN", "FLUXERR_WIN", "FLAGS_WIN", "FLUX_RADIUS"]

    struct Run {
        var ours: Catalog
        var checks: [CheckImageType: CheckImage]
        var sex: SExtractorASCIICatalog
        var sexChecks: [String: FITSImage]
        var frame: FlagFrame
        /// sex row -> our source index.
        var matches: [Int: Int]
        var windowPixels: WindowedFlux.Pixels
    }

    static let run: Result<Run, Error> = Result { try makeRun() }
    /// The same frame with its noise given as an absolute rms map (MAP_RMS: no scaling to differ).
    static let rmsRun: Result<Run, Error> = Result {
        let frame = FlagFrame()
        let rms = frame.weights.map { $0 > 0 ? 10 / max($0, 0.5).squareRoot() : Float.infinity }
        return try makeRun(weightType: "MAP_RMS", weights: rms)
    }

    private static func makeRun(weightType: String = "MAP_WEIGHT", weights: [Float]? = nil) throws -> Run {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-sex-flags")
        defer { try? FileManager.default.removeItem(at: directory) }
        let frame = FlagFrame()
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try FITSImageWriter(width: frame.width, height: frame.height, pixels: .float32(frame.pixels),
                            keywords: [.double("SATURATE", Double(frame.saturation))]).write(to: path("image.fits"))
        let weights = weights ?? frame.weights
        try FITSImageWriter(width: frame.width, height: frame.height, pixels: .float32(weights)).write(to: path("weight.fits"))
        try FITSImageWriter(width: frame.width, height: frame.height, pixels: .int16(frame.flags)).write(to: path("flag.fits"))
        let sex = Self.sex.replacingOccurrences(of: "MAP_WEIGHT", with: weightType)
            + (weightType == "MAP_RMS" ? "\nWEIGHT_THRESH 1e20" : "")
        try sex.write(toFile: path("flags.sex"), atomically: true, encoding: .utf8)
        try param.joined(separator: "\n").write(toFile: path("flags.param"), atomically: true, encoding: .utf8)

        let result = try TestSupport.run("/usr/bin/source-extractor", ["image.fits", "-c", "flags.sex"],
                                         currentDirectory: directory)
        guard result.status == 0 else { throw ExtractionError.invalidParameter("source-extractor: \(result.stderr)") }
        let sexCatalog = try SExtractorASCIICatalog(contentsOf: directory.appendingPathComponent("sex.cat"))
        let sexChecks = try ["back.fits", "rms.fits", "seg.fits"].reduce(into: [String: FITSImage]()) {
            $0[$1] = try FITSImage(contentsOfFile: path($1))
        }

        let configuration = try SExtractorConfiguration.parse(sex, directory: directory)
        let image = try SkyImage(width: frame.width, height: frame.height, pixels: frame.pixels, label: "image.fits")
            .withWeightMap(weights, source: "weight.fits")
            .withFlagMap(frame.flags.map(Int32.init), source: "flag.fits")
        var parameters = configuration.parameters
        parameters.columns = try XCTUnwrap(configuration.columns)
        let extractor = try Extractor(parameters: parameters)
            .calibrated(gain: nil, saturationLevel: Double(frame.saturation))  // what SATUR_KEY finds
        let (catalog, checkImages) = try extractor.extract(image, checkImages: configuration.parameters.checkImages.map(\.type))

        let x = sexCatalog.column("X_IMAGE"), y = sexCatalog.column("Y_IMAGE")
        var matches: [Int: Int] = [:]
        for row in x.indices {
            let nearest = catalog.sources.indices.min {
                hypot(catalog.sources[$0].xImage - x[row], catalog.sources[$0].yImage - y[row])
                    < hypot(catalog.sources[$1].xImage - x[row], catalog.sources[$1].yImage - y[row])
            }
            if let nearest, hypot(catalog.sources[nearest].xImage - x[row], catalog.sources[nearest].yImage - y[row]) < 1 {
                matches[row] = nearest
            }
        }
        return Run(ours: catalog, checks: Dictionary(uniqueKeysWithValues: checkImages.map { ($0.type, $0) }),
                   sex: sexCatalog, sexChecks: sexChecks, frame: frame, matches: matches,
                   windowPixels: try windowPixels(image, parameters))
    }

    /// What the extractor measured FLUX_WIN on: the masked, background-subtracted image and its noise.
    private static func windowPixels(_ input: SkyImage, _ parameters: ExtractionParameters) throws -> WindowedFlux.Pixels {
        let image = WeightMap.masking(input, parameters.weight!)
        let library = SEPLibrary.shared
        let model = try SEPBackground(image: image, parameters: parameters.background, library: library)
        var data = try model.subtracted(from: image.pixels, library: library)
        for index in data.indices where image.mask?.isBad(index) == true { data[index] = 0 }
        let noise = try WeightMap.noise(for: image, parameters.weight!, background: model, rmsMap: nil,
                                        parameters: parameters.background, library: library)
        return WindowedFlux.Pixels(data: data, mask: image.mask, width: image.width, height: image.height,
                                   noise: .map(noise), inverseGain: 0, gainScalesWithWeight: true,
                                   backgroundVariance: Double(model.rms * model.rms))
    }

    private func loaded(_ run: Result<Run, Error> = SExtractorFlagsTests.run) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/source-extractor") else {
            throw XCTSkip("source-extractor is not installed (scripts/setup installs it)")
        }
        return try run.get()
    }

    /// With an absolute rms map nothing is scaled: the flux errors are SExtractor's to 1e-4.
    func testAnRMSMapGivesSExtractorsErrors() throws {
        let run = try loaded(Self.rmsRun)
        XCTAssertLessThanOrEqual(abs(Double(run.ours.count - run.sex.rows.count)), 0.01 * Double(run.sex.rows.count))
        let error = run.sex.column("FLUXERR_APER"), flags = run.sex.column("FLAGS")
        var compared = 0
        for (row, index) in run.matches where flags[row] == 0 {
            XCTAssertEqual(run.ours.sources[index].photometry.apertures[0].error, error[row],
                           accuracy: 1e-4 * error[row] + 1e-3, "FLUXERR_APER at row \(row)")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 60)
        guard case .int32(let ours) = try XCTUnwrap(run.checks[.segmentation]).pixels else { return XCTFail() }
        let theirs = run.sexChecks["seg.fits"]!.pixels
        let numbers = run.sex.column("NUMBER")
        let blended = Set(numbers.indices.filter { Int(flags[$0]) & 2 != 0 }.map { Int32(numbers[$0]) })
        var sexToOurs: [Int32: Int32] = [0: 0]
        for (row, index) in run.matches { sexToOurs[Int32(numbers[row])] = Int32(index + 1) }
        let differ = ours.indices.filter {
            let sex = Int32(theirs[$0])
            return sexToOurs[sex] != ours[$0] && !blended.contains(sex)
                && !(ours[$0] > 0 && run.ours.sources[Int(ours[$0]) - 1].sextractorFlags & 2 != 0)
        }
        // No pixel changes owner; SExtractor's isophotes reach a few edge pixels further (1 %).
        XCTAssertTrue(differ.allSatisfy { ours[$0] == 0 || theirs[$0] == 0 }, "an unblended pixel changed owner")
        XCTAssertLessThanOrEqual(Double(differ.count), 0.015 * Double(theirs.filter { $0 != 0 }.count))
    }

    func testCountsAndPositionsAgree() throws {
        let run = try loaded()
        let count = Double(run.sex.rows.count)
        XCTAssertGreaterThan(count, 100)
        XCTAssertLessThanOrEqual(abs(Double(run.ours.count) - count) / count, 0.01, "\(run.ours.count) vs \(count)")
        XCTAssertGreaterThanOrEqual(Double(run.matches.count), 0.99 * count, "matched within a pixel")
        XCTAssertEqual(Set(run.matches.values).count, run.matches.count, "one-to-one")
        // Positions on isolated objects (FLAGS 0 on both sides), with test_sep.py's 1e-3 pixel.
        let x = run.sex.column("X_IMAGE"), y = run.sex.column("Y_IMAGE"), flags = run.sex.column("FLAGS")
        let clean = run.matches.filter { flags[$0.key] == 0 && run.ours.sources[$0.value].sextractorFlags == 0 }
        XCTAssertGreaterThan(clean.count, 60)
        let close = clean.filter { abs(run.ours.sources[$0.value].xImage - x[$0.key]) <= 1e-3
                                   && abs(run.ours.sources[$0.value].yImage - y[$0.key]) <= 1e-3 }
        // The ASCII catalog rounds to 1e-3; a few faint objects differ by a pixel of their isophote.
        XCTAssertGreaterThanOrEqual(Double(close.count), 0.9 * Double(clean.count), "\(close.count) of \(clean.count)")
    }

    func testFlagsBitsTwoFourEightAndTheFlagImageAgree() throws {
        let run = try loaded()
        let flags = run.sex.column("FLAGS"), ima = run.sex.column("IMAFLAGS_ISO"), nima = run.sex.column("NIMAFLAGS_ISO")
        var seen = 0
        for (row, index) in run.matches {
            let source = run.ours.sources[index]
            XCTAssertEqual(Int(flags[row]) & 14, source.sextractorFlags & 14, "FLAGS bits 2, 4, 8 at row \(row)")
            XCTAssertEqual(Int(ima[row]), source.imageFlags?.value, "IMAFLAGS_ISO at row \(row)")
            XCTAssertEqual(Int(nima[row]), source.imageFlags?.count, "NIMAFLAGS_ISO at row \(row)")
            seen |= Int(flags[row])
        }
        XCTAssertEqual(seen & 14, 14, "the frame has deblended, saturated and truncated objects")
        XCTAssertTrue(run.ours.sources.contains { ($0.imageFlags?.value ?? 0) == 6 }, "two flag values OR'ed")
        // Bits 1 and 16 (neighbours or bad pixels, apertures cut) agree on nearly every object.
        let other = run.matches.filter { Int(flags[$0.key]) & 17 == run.ours.sources[$0.value].sextractorFlags & 17 }
        XCTAssertGreaterThanOrEqual(Double(other.count), 0.97 * Double(run.matches.count))
    }

    func testTheSaturatedStarsCarryFlagFour() throws {
        let run = try loaded()
        for star in run.frame.saturatedStars {
            let source = try XCTUnwrap(run.ours.sources.min {
                hypot($0.object.x - star.x, $0.object.y - star.y) < hypot($1.object.x - star.x, $1.object.y - star.y)
            })
            XCTAssertLessThan(hypot(source.object.x - star.x, source.object.y - star.y), 0.5)
            XCTAssertNotEqual(source.sextractorFlags & 4, 0, "saturated star at \(star)")
        }
        XCTAssertEqual(run.ours.sources.filter { $0.sextractorFlags & 4 != 0 }.count, run.frame.saturatedStars.count)
    }

    func testBackgroundAndSegmentationCheckImagesAgree() throws {
        let run = try loaded()
        for (name, type, rtol) in [("back.fits", CheckImageType.background, 1e-5), ("rms.fits", .backgroundRMS, 1e-4)] {
            guard case .float32(let ours) = try XCTUnwrap(run.checks[type]).pixels else { return XCTFail("\(type)") }
            assertAllClose(ours, run.sexChecks[name]!.pixels, rtol: rtol, name)
        }
        guard case .int32(let ours) = try XCTUnwrap(run.checks[.segmentation]).pixels else { return XCTFail() }
        let theirs = run.sexChecks["seg.fits"]!.pixels.map { Int32($0) }
        var sexToOurs: [Int32: Int32] = [0: 0]
        let numbers = run.sex.column("NUMBER")
        for (row, index) in run.matches { sexToOurs[Int32(numbers[row])] = Int32(index + 1) }
        let flags = run.sex.column("FLAGS")
        let blended = Set(numbers.indices.filter { Int(flags[$0]) & 2 != 0 }.map { Int32(numbers[$0]) })
        let differ = ours.indices.filter { sexToOurs[theirs[$0]] != ours[$0] }
        let objectPixels = theirs.filter { $0 != 0 }.count
        XCTAssertGreaterThan(objectPixels, 5000)
        // The same object owns each pixel, but where deblending shares out a blend's pixels
        // (SEP's and SExtractor's random sequences differ there, as SEP's docs say).
        let unblended = differ.filter { !blended.contains(theirs[$0]) && !(ours[$0] > 0 && run.ours.sources[Int(ours[$0]) - 1].sextractorFlags & 2 != 0) }
        // Outside blends a pixel is never given to another object; the few that differ are isophote
        // edges, where the weight map's scale (under 1 % apart, see WeightMap) moves the threshold.
        XCTAssertTrue(unblended.allSatisfy { ours[$0] == 0 || theirs[$0] == 0 }, "an unblended pixel changed owner")
        XCTAssertLessThanOrEqual(Double(unblended.count), 0.015 * Double(objectPixels), "\(unblended.count) unblended pixels differ")
        XCTAssertLessThanOrEqual(Double(differ.count), 0.02 * Double(objectPixels), "\(differ.count) pixels differ")
    }

    /// FLUX_WIN is SExtractor's sum at SExtractor's window: given SExtractor's half-light radius
    /// (SEP's FLUX_RADIUS differs, see README) it is SExtractor's value.
    func testWindowedFluxIsSExtractorsGivenItsWindow() throws {
        let run = try loaded()
        let radius = run.sex.column("FLUX_RADIUS"), flux = run.sex.column("FLUX_WIN"), error = run.sex.column("FLUXERR_WIN")
        let winFlags = run.sex.column("FLAGS_WIN"), flags = run.sex.column("FLAGS")
        var compared = 0
        // Bright isolated objects: on faint ones the windowed centroids (SEP's, SExtractor's) wander apart.
        for (row, index) in run.matches where winFlags[row] == 0 && flags[row] == 0 && flux[row] > 50 * error[row] {
            let source = run.ours.sources[index]
            XCTAssertEqual(source.windowedFlux?.flags, 0, "FLAGS_WIN at row \(row)")
            let measured = WindowedFlux.measure(run.windowPixels, x: source.photometry.xWindowed, y: source.photometry.yWindowed,
                                                sigma: radius[row] * 2 / 2.35, object: source.object)
            XCTAssertEqual(measured.flux, flux[row], accuracy: 2e-3 * abs(flux[row]) + 0.5, "FLUX_WIN at row \(row)")
            // The weight map's scale (back.c's sigfac) differs by under 1 % (see WeightMap).
            XCTAssertEqual(measured.error, error[row], accuracy: 0.01 * error[row], "FLUXERR_WIN at row \(row)")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 40)
    }
}

/// FLAG_TYPE and the .sex keys of issue 15, without source-extractor.
final class FlagTypeAndSexKeyTests: XCTestCase {
    func testFlagTypesCombineOnlyNonzeroValues() {
        let values: [Int32] = [0, 4, 6, 0, 4, 1, 4, 6]
        XCTAssertEqual(ImageFlags.combine(values, .or), ImageFlags(value: 7, count: 6))
        XCTAssertEqual(ImageFlags.combine(values, .and), ImageFlags(value: 0, count: 6))
        XCTAssertEqual(ImageFlags.combine([4, 6, 0, 12], .and), ImageFlags(value: 4, count: 3))
        XCTAssertEqual(ImageFlags.combine(values, .min), ImageFlags(value: 1, count: 1))
        XCTAssertEqual(ImageFlags.combine(values, .max), ImageFlags(value: 6, count: 2))
        XCTAssertEqual(ImageFlags.combine(values, .most), ImageFlags(value: 4, count: 3))
        XCTAssertEqual(ImageFlags.combine([0, 0], .min), ImageFlags(value: 0, count: 0))
    }

    func testSexKeysForWeightsFlagsSaturationAndCheckImages() throws {
        let text = """
            SATUR_LEVEL 40000
            SATUR_KEY NONE
            GAIN_KEY EGAIN
            WEIGHT_TYPE MAP_VAR,MAP_VAR
            WEIGHT_IMAGE {stem}.var.fits
            WEIGHT_GAIN N
            WEIGHT_THRESH 1e6
            FLAG_IMAGE [FLAGS]
            FLAG_TYPE MOST
            CHECKIMAGE_TYPE SEGMENTATION,FILTERED,-OBJECTS
            CHECKIMAGE_NAME seg.fits,filtered.fits
            """
        let configuration = try SExtractorConfiguration.parse(text, directory: URL(fileURLWithPath: "/tmp"))
        let p = configuration.parameters
        XCTAssertEqual(p.saturationLevel, 40000)
        XCTAssertEqual(p.saturationKeyword, "")
        XCTAssertEqual(p.gainKeyword, "EGAIN")
        XCTAssertEqual(p.weight, WeightOptions(kind: .mapVariance, image: "{stem}.var.fits", scalesGain: false, threshold: 1e6))
        XCTAssertEqual(p.flagImage, FlagImageOptions(image: "[FLAGS]", combination: .most))
        XCTAssertEqual(p.checkImages, [CheckImageRequest(type: .segmentation, name: "seg.fits"),
                                       CheckImageRequest(type: .minusObjects)])
        XCTAssertTrue(configuration.warnings.contains { $0.contains("FILTERED") }, "\(configuration.warnings)")
        let decoded = try JSONDecoder().decode(ExtractionParameters.self, from: JSONEncoder().encode(p))
        XCTAssertEqual(decoded, p, "the new keys travel with the job")
        XCTAssertEqual(try JSONDecoder().decode(ExtractionParameters.self, from: Data("{}".utf8)), ExtractionParameters())

        XCTAssertThrowsError(try SExtractorConfiguration.parse("WEIGHT_TYPE MAP_WHATEVER", directory: URL(fileURLWithPath: "/")))
        XCTAssertThrowsError(try SExtractorConfiguration.parse("WEIGHT_TYPE MAP_WEIGHT", directory: URL(fileURLWithPath: "/")),
                             "a map type needs WEIGHT_IMAGE")
        XCTAssertThrowsError(try SExtractorConfiguration.parse("FLAG_TYPE SUM", directory: URL(fileURLWithPath: "/")))
    }

    /// A default catalog's recipe (and its hash) does not change because the new keys exist.
    func testDefaultParametersEncodeWithoutTheNewKeys() throws {
        let json = String(decoding: try JSONEncoder().encode(ExtractionParameters()), as: UTF8.self)
        for key in ["saturationLevel", "saturationKeyword", "gainKeyword", "weight", "flagImage", "checkImages"] {
            XCTAssertFalse(json.contains("\"\(key)\""), "\(key) in \(json)")
        }
    }
}
