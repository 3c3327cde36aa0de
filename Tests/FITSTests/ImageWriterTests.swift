import FITS
import Foundation
import TestSupport
import XCTest

/// Images written by FITSImageWriter, read back by astropy, fitsverify and our reader.
final class ImageWriterTests: FITSTestCase {
    private let width = 70, height = 45

    private var floatPixels: [Float] {
        var pixels: [Float] = (0..<width * height).map { (i: Int) -> Float in
            let wave = Float(i % 97) * 1.5 - 20
            return wave + Float(i) / 1000
        }
        pixels[3 * width + 7] = .nan
        return pixels
    }

    private var keywords: [FITSCard] {
        [.double("GAIN", 4.62, comment: "e-/ADU"), .double("EXPTIME", 53.907456),
         .string("OBJECT", "NGC 5194"), .bool("SYNTHETI", true), .int("SEED", 42),
         .string("ORIGIN", "s3://a-bucket/with/a/rather/long/prefix/that/needs/continue/cards/frame-000001.fits"),
         .string("QUOTED", "O'Hara  "), .commentary("made by the FITS tests")]
    }

    func testFloat32ImageReadsBackInAstropyAndHere() throws {
        let writer = FITSImageWriter(width: width, height: height, pixels: .float32(floatPixels), keywords: keywords)
        try writer.write(to: path("float.fits"))
        let output = try astropy("""
            with fits.open('float.fits') as f:
                h = f[0].header
                f[0].data.astype('<f4').tofile('float.f4')
                print(json.dumps({'bitpix': h['BITPIX'], 'shape': list(f[0].data.shape), 'gain': h['GAIN'],
                                  'gain_comment': h.comments['GAIN'], 'exptime': h['EXPTIME'],
                                  'object': h['OBJECT'], 'synth': h['SYNTHETI'], 'seed': h['SEED'],
                                  'origin': h['ORIGIN'], 'quoted': h['QUOTED'], 'has_date': 'DATE' in h}))
            """)
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        XCTAssertEqual(json["bitpix"] as? Int, -32)
        XCTAssertEqual(json["shape"] as? [Int], [height, width])
        XCTAssertEqual(json["gain"] as? Double, 4.62)
        XCTAssertEqual(json["gain_comment"] as? String, "e-/ADU")
        XCTAssertEqual(json["exptime"] as? Double, 53.907456)
        XCTAssertEqual(json["object"] as? String, "NGC 5194")
        XCTAssertEqual(json["synth"] as? Bool, true)
        XCTAssertEqual(json["seed"] as? Int, 42)
        XCTAssertEqual(json["has_date"] as? Bool, false)
        XCTAssertEqual(json["origin"] as? String,
                       "s3://a-bucket/with/a/rather/long/prefix/that/needs/continue/cards/frame-000001.fits")
        XCTAssertEqual(json["quoted"] as? String, "O'Hara")
        assertBitIdentical(try float32File("float.f4"), floatPixels, "astropy reads what we wrote")

        let image = try FITSImage(contentsOfFile: path("float.fits"))
        var expected = floatPixels
        expected[3 * width + 7] = 0
        assertBitIdentical(image.pixels, expected, "our reader")
        XCTAssertEqual(image.mask?.firstIndex(of: true), 3 * width + 7)
        XCTAssertEqual(image.mask?.filter { $0 }.count, 1)
        XCTAssertEqual(image.header.double("GAIN"), 4.62)
        XCTAssertEqual(image.header.double("EXPTIME"), 53.907456)
        XCTAssertEqual(image.header.string("OBJECT"), "NGC 5194")
        XCTAssertEqual(image.header.bool("SYNTHETI"), true)
        XCTAssertEqual(image.header.int("SEED"), 42)
        XCTAssertEqual(image.header.card("GAIN")?.comment, "e-/ADU")
        XCTAssertEqual(image.header.string("ORIGIN"),
                       "s3://a-bucket/with/a/rather/long/prefix/that/needs/continue/cards/frame-000001.fits",
                       "CONTINUE cards are joined")
        XCTAssertEqual(image.header.string("QUOTED"), "O'Hara", "quotes undoubled, trailing blanks dropped")
        XCTAssertTrue(image.header.commentary().contains("made by the FITS tests"))
        XCTAssertNil(image.header["DATE"])
    }

    func testInt16WithScalingAndBlank() throws {
        let raw = (0..<width * height).map { Int16(truncatingIfNeeded: $0 * 37 - 30000) }
        var stored = raw
        stored[10] = -32768
        let writer = FITSImageWriter(width: width, height: height,
                                     pixels: .int16(stored, bscale: 0.75, bzero: 1000.5, blank: -32768))
        try writer.write(to: path("int16.fits"))
        try astropy("""
            with fits.open('int16.fits', do_not_scale_image_data=True) as f:
                h = f[0].header
                raw = f[0].data
                assert h['BITPIX'] == 16 and h['BSCALE'] == 0.75 and h['BZERO'] == 1000.5 and h['BLANK'] == -32768
                expected = (raw.astype(np.float64) * h['BSCALE'] + h['BZERO']).astype(np.float32)
                expected[raw == h['BLANK']] = 0
                raw.astype('<i2').tofile('int16.raw')
                expected.astype('<f4').tofile('int16.f4')
            """)
        let rawBack = try Data(contentsOf: URL(fileURLWithPath: path("int16.raw")))
        XCTAssertEqual(rawBack.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }, stored, "astropy reads the stored values")
        let image = try FITSImage(contentsOfFile: path("int16.fits"))
        XCTAssertEqual(image.bitpix, 16)
        assertBitIdentical(image.pixels, try float32File("int16.f4"), "scaled as astropy scales")
        XCTAssertEqual(image.mask?.firstIndex(of: true), 10)
    }

    func testDeterministicAndValid() throws {
        let writer = FITSImageWriter(width: width, height: height, pixels: .float32(floatPixels), keywords: keywords)
        let first = try writer.data()
        XCTAssertEqual(try writer.data(), first)
        XCTAssertEqual(first.count, 2880 + (width * height * 4 + 2879) / 2880 * 2880)
        try writer.write(to: path("same.fits"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("same.fits"))), first)
        let fitsverify = "/usr/bin/fitsverify"
        if FileManager.default.isExecutableFile(atPath: fitsverify) {
            let result = try TestSupport.run(fitsverify, [path("same.fits")])
            XCTAssertTrue(result.stdout.contains("found 0 warning(s) and 0 error(s)"), result.stdout)
        }
        let fromMemory = try FITSImage(data: first, name: "synthetic")
        XCTAssertEqual(fromMemory.width, width)
    }

    func testBadInputIsRefused() {
        let short = FITSImageWriter(width: 4, height: 4, pixels: .float32([1, 2, 3]))
        assertFITSError(try short.data(name: "frame.fits"), file: "frame.fits", contains: ["a 4 x 4 image needs 16 pixels, got 3"])
        let scaled = FITSImageWriter(width: 1, height: 1, pixels: .float32([1]), keywords: [.double("BSCALE", 2)])
        assertFITSError(try scaled.data(name: "frame.fits"), file: "frame.fits", contains: ["BSCALE", "set by the writer"])
        let unwritable = FITSImageWriter(width: 1, height: 1, pixels: .float32([1]))
        let target = path("no/such/dir/x.fits")
        assertFITSError(try unwritable.write(to: target), file: target, contains: ["cannot write the file"])
    }
}
