import FITS
import Foundation
import XCTest

/// Every BITPIX, with and without BSCALE/BZERO, with BLANK or NaN pixels: astropy writes the
/// files and computes `(raw.astype(float64) * bscale + bzero).astype(float32)` with bad pixels 0.
final class BitpixTests: FITSTestCase {
    /// name, BITPIX, BSCALE, BZERO, BLANK ('None' when absent).
    private static let cases: [(String, Int, Double, Double, String)] = [
        ("u8", 8, 1, 0, "None"), ("u8s", 8, 0.5, -10, "7"),
        ("i16", 16, 1, 0, "None"), ("i16s", 16, 1.7, 123.25, "-32768"), ("u16", 16, 1, 32768, "None"),
        ("i32", 32, 1, 0, "12345"), ("i32s", 32, 0.001, 1e5, "None"),
        ("i64", 64, 1, 0, "None"), ("i64s", 64, 3.3e-4, -7.5, "-99"),
        ("f32", -32, 1, 0, "None"), ("f32s", -32, 2.5, 1, "None"),
        ("f64", -64, 1, 0, "None"), ("f64s", -64, 1e-3, 0.125, "None"),
    ]

    private var cases: [(String, Int, Double, Double, String)] { Self.cases }

    override class var fixtureScript: String {
        let table = cases.map { "('\($0.0)', \($0.1), \($0.2), \($0.3), \($0.4))" }.joined(separator: ", ")
        return """
            rng = np.random.default_rng(7)
            types = {8: np.uint8, 16: np.int16, 32: np.int32, 64: np.int64, -32: np.float32, -64: np.float64}
            for name, bitpix, bscale, bzero, blank in [\(table)]:
                t = types[bitpix]
                shape = (37, 53)
                if bitpix > 0:
                    info = np.iinfo(t)
                    lo, hi = max(info.min, -2**40), min(info.max, 2**40)
                    raw = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64).astype(t)
                    raw[0, 0], raw[-1, -1] = info.min, info.max
                    if blank is not None:
                        raw[3, 4] = raw[10, 20] = raw[36, 52] = blank
                else:
                    raw = (rng.standard_normal(shape) * 1e4).astype(t)
                    raw[5, 6] = raw[30, 1] = np.nan
                hdu = fits.PrimaryHDU(raw)
                hdu.writeto(name + '.fits', overwrite=True)
                with fits.open(name + '.fits', mode='update', do_not_scale_image_data=True) as f:
                    h = f[0].header
                    if (bscale, bzero) != (1, 0):
                        h['BSCALE'] = bscale
                        h['BZERO'] = bzero
                    if blank is not None:
                        h['BLANK'] = blank
                with fits.open(name + '.fits', do_not_scale_image_data=True) as f:
                    raw = f[0].data
                    assert f[0].header['BITPIX'] == bitpix
                    expected = (raw.astype(np.float64) * bscale + bzero).astype(np.float32)
                    bad = (raw == blank) if blank is not None else np.isnan(raw)
                    expected[bad] = 0
                    expected.astype('<f4').tofile(name + '.f4')
                    bad.astype(np.uint8).tofile(name + '.mask')
            """
    }

    func testEveryBitpixReadsAsAstropyScalesIt() throws {
        for (name, bitpix, _, _, _) in cases {
            let image = try FITSImage(contentsOfFile: path(name + ".fits"))
            XCTAssertEqual(image.bitpix, bitpix, name)
            XCTAssertEqual(image.width, 53, name)
            XCTAssertEqual(image.height, 37, name)
            assertBitIdentical(image.pixels, try float32File(name + ".f4"), name)
            let bad = try boolFile(name + ".mask")
            if bad.contains(true) {
                XCTAssertEqual(image.mask, bad, "\(name): mask")
                let planted = bitpix < 0 ? [5 * 53 + 6, 30 * 53 + 1] : [3 * 53 + 4, 10 * 53 + 20, 36 * 53 + 52]
                for i in planted {
                    XCTAssertEqual(image.mask?[i], true, "\(name): pixel \(i) is bad")
                    XCTAssertEqual(image.pixels[i], 0, "\(name): a bad pixel holds 0")
                }
            } else {
                XCTAssertNil(image.mask, "\(name): no bad pixel, no mask")
            }
        }
    }

    func testMemoryReadsEqualFileReads() throws {
        for (name, _, _, _, _) in cases {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path(name + ".fits")))
            let fromFile = try FITSImage(contentsOfFile: path(name + ".fits"))
            let fromData = try FITSImage(data: bytes, name: name)
            let fromArray = try FITSImage(bytes: [UInt8](bytes), name: name)
            assertBitIdentical(fromData.pixels, fromFile.pixels, "\(name) from Data")
            assertBitIdentical(fromArray.pixels, fromFile.pixels, "\(name) from [UInt8]")
            XCTAssertEqual(fromData.mask, fromFile.mask, name)
            XCTAssertEqual(fromData.header, fromFile.header, name)
        }
    }

    /// A plain float32 image is read without CFITSIO's flag array; its null rule still holds:
    /// NaN and ±Inf are bad pixels (value 0), -0 and subnormals read as +0 (what ffgpf gives,
    /// checked against it in C when this path was written).
    func testFloatNullsAndUnderflowsReadAsCFITSIOFlagsThem() throws {
        let values: [Float] = [1.5, .nan, .infinity, -.infinity, -0.0, 1e-40, -3, .greatestFiniteMagnitude]
        let file = path("specials.fits")
        try FITSImageWriter(width: 4, height: 2, pixels: .float32(values)).write(to: file)
        let image = try FITSImage(contentsOfFile: file)
        XCTAssertEqual(image.mask, [false, true, true, true, false, false, false, false])
        XCTAssertEqual(image.pixels.map(\.bitPattern),
                       [Float(1.5), 0, 0, 0, 0, 0, -3, .greatestFiniteMagnitude].map(\.bitPattern))
        let clean = path("clean.fits")
        try FITSImageWriter(width: 4, height: 2, pixels: .float32([1, 2, 3, 4, 5, 6, 7, 8])).write(to: clean)
        XCTAssertNil(try FITSImage(contentsOfFile: clean).mask, "no bad pixel, no mask")

        // Across the reader's blocks of 4096: specials at block edges, ordinary values around them.
        var large = (0..<10_000).map { Float($0 % 97) + 0.25 }
        let specials: [Int: Float] = [0: .nan, 4095: -0.0, 4096: .infinity, 5000: 1e-39, 9999: .nan]
        for (index, value) in specials { large[index] = value }
        let big = path("specials-large.fits")
        try FITSImageWriter(width: 100, height: 100, pixels: .float32(large)).write(to: big)
        let read = try FITSImage(contentsOfFile: big)
        let bad = Set([0, 4096, 9999])
        XCTAssertEqual(read.mask, (0..<10_000).map { bad.contains($0) })
        XCTAssertEqual(read.pixels.map(\.bitPattern), large.indices.map { specials[$0] == nil ? large[$0].bitPattern : 0 })
    }
}
