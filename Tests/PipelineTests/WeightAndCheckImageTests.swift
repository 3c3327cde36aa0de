import Extraction
import FITS
import Foundation
import Pipeline
import TestSupport
import XCTest

/// Weight and flag maps found beside each input by a rule, SATUR_KEY from the header, and
/// check images committed beside the catalog, named after the input (issue 15).
final class WeightAndCheckImageTests: XCTestCase {
    static let sex = """
        FILTER           N
        SATUR_KEY        SATURATE
        WEIGHT_TYPE      MAP_WEIGHT
        WEIGHT_IMAGE     {stem}.weight.fits
        FLAG_IMAGE       {stem}.flag.fits
        CHECKIMAGE_TYPE  SEGMENTATION,OBJECTS,-BACKGROUND,APERTURES,BACKGROUND_RMS
        CHECKIMAGE_NAME  {stem}.seg.fits
        """

    func testMapsBesideTheInputAndCheckImagesBesideTheCatalog() throws {
        let dir = try TestSupport.makeTemporaryDirectory("pipeline-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in/night1")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let frame = FlagFrame()
        func write(_ name: String, _ pixels: FITSPixels, _ keywords: [FITSCard] = []) throws {
            try FITSImageWriter(width: frame.width, height: frame.height, pixels: pixels, keywords: keywords)
                .write(to: input.appendingPathComponent(name).path)
        }
        try write("f.fits", .float32(frame.pixels), [.double("SATURATE", Double(frame.saturation))])
        try write("f.weight.fits", .float32(frame.weights))
        try write("f.flag.fits", .int16(frame.flags))
        try write("g.fits", .float32(frame.pixels))  // no weight map beside it
        var parameters = try SExtractorConfiguration.parse(Self.sex, directory: dir).parameters
        parameters.columns = try ColumnSelection(list: "NUMBER,X_IMAGE,Y_IMAGE,FLAGS,SEP_FLAGS,IMAFLAGS_ISO,NIMAFLAGS_ISO,FLUX_WIN,FLAGS_WIN")
        let out = dir.appendingPathComponent("out")
        let inputs = ["f.fits", "g.fits"].map {
            InputFile(uri: input.appendingPathComponent($0).path, relativePath: "night1/\($0)")
        }
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(
            output: out.path, extraction: parameters)))
        XCTAssertEqual(report.committed, 1)
        XCTAssertEqual(report.failed, 1)
        let manifest = try PipelineFixtures.manifest(in: out)
        let missing = try XCTUnwrap(manifest.first { $0.input.hasSuffix("g.fits") }?.error)
        XCTAssertTrue(missing.contains("g.weight.fits"), "the error names the missing map: \(missing)")
        XCTAssertFalse(missing.contains("\n"))
        XCTAssertEqual(missing.components(separatedBy: "night1/g.fits").count, 2, "names the input once: \(missing)")

        let night = out.appendingPathComponent("night1")
        let names = try Set(FileManager.default.contentsOfDirectory(atPath: night.path))
        XCTAssertEqual(names, ["f.cat.fits", "f.seg.fits", "f.objects.fits", "f.minus-background.fits",
                               "f.apertures.fits", "f.background_rms.fits"])
        let rows = try TestSupport.python("""
            import json, sys
            from astropy.io import fits
            d = fits.open(sys.argv[1])[1].data
            print(json.dumps({c: [float(v) for v in d[c]] for c in d.columns.names}))
            """, arguments: [night.appendingPathComponent("f.cat.fits").path])
        let catalog = try JSONDecoder().decode([String: [Double]].self, from: Data(rows.utf8))
        let flags = try XCTUnwrap(catalog["FLAGS"]).map(Int.init)
        XCTAssertEqual(flags.filter { $0 & 4 != 0 }.count, frame.saturatedStars.count, "SATUR_KEY from the header")
        XCTAssertTrue(try XCTUnwrap(catalog["IMAFLAGS_ISO"]).contains(6), "the flag map beside the input")
        XCTAssertNotEqual(flags, try XCTUnwrap(catalog["SEP_FLAGS"]).map(Int.init))

        // SEGMENTATION holds each row's NUMBER on its pixels; OBJECTS is nonzero only there.
        let segmentation = try FITSImage(contentsOfFile: night.appendingPathComponent("f.seg.fits").path)
        XCTAssertEqual(segmentation.bitpix, 32)
        XCTAssertEqual(Set(segmentation.pixels.filter { $0 != 0 }.map(Int.init)), Set(1...flags.count))
        let objects = try FITSImage(contentsOfFile: night.appendingPathComponent("f.objects.fits").path)
        XCTAssertTrue(objects.pixels.indices.allSatisfy { objects.pixels[$0] == 0 || segmentation.pixels[$0] != 0 })
        // -BACKGROUND is the image minus its background: its sky sits at 0.
        let minus = try FITSImage(contentsOfFile: night.appendingPathComponent("f.minus-background.fits").path)
        let rms = try FITSImage(contentsOfFile: night.appendingPathComponent("f.background_rms.fits").path)
        XCTAssertEqual(minus.width, frame.width)
        XCTAssertLessThan(abs(minus.pixels.sorted()[minus.pixels.count / 2]), 3 * rms.pixels[0], "sky near 0")
        let apertures = try FITSImage(contentsOfFile: night.appendingPathComponent("f.apertures.fits").path)
        XCTAssertGreaterThan(zip(apertures.pixels, minus.pixels).filter { $0 != $1 }.count, 1000, "apertures drawn")
    }
}
