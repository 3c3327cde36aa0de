import FITS
import Foundation
import XCTest

/// Every way a read can fail gives one line naming the file and the reason.
final class ErrorTests: FITSTestCase {
    override class var fixtureScript: String {
        """
            img = np.arange(2400, dtype=np.float32).reshape(40, 60)
            table = fits.BinTableHDU.from_columns([fits.Column(name='X', format='D', array=np.arange(3.0))], name='CAT')
            fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(img, name='SCI'), table]).writeto('mef.fits')
            fits.HDUList([fits.PrimaryHDU(), table]).writeto('table_only.fits')
            fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros((0, 5), np.float32))]).writeto('zero.fits')
            fits.PrimaryHDU(np.arange(10, dtype=np.int16)).writeto('line.fits')
            fits.PrimaryHDU(np.zeros((4, 40, 60), np.float32)).writeto('cube.fits')
            fits.PrimaryHDU(img.reshape(1, 40, 60)).writeto('plane.fits')
            fits.PrimaryHDU(img).writeto('img.fits')
            data = open('img.fits', 'rb').read()
            open('cut_data.fits', 'wb').write(data[:2880 + 5000])
            open('cut_header.fits', 'wb').write(data[:1000])
            open('img.fits.gz', 'wb').write(gzip.compress(data))
            open('cut.fits.gz', 'wb').write(gzip.compress(data)[:300])
            open('text.fits', 'w').write('this is not FITS at all\\n')
            open('empty.fits', 'w').close()
            """
    }

    func testMissingFile() {
        let missing = path("missing.fits")
        let error = assertFITSError(try FITSImage(contentsOfFile: missing), file: missing, contains: ["no such file"])
        XCTAssertEqual(error?.description, "\(missing): no such file")
        assertFITSError(try FITSImage(contentsOfFile: directory.path), file: directory.path, contains: ["directory"])
    }

    func testNotFITS() throws {
        for name in ["text.fits", "empty.fits"] {
            assertFITSError(try FITSImage(contentsOfFile: path(name)), file: path(name), contains: ["not a FITS file"])
        }
        let text = assertFITSError(try FITSImage(contentsOfFile: path("text.fits")), file: path("text.fits"), contains: [])
        XCTAssertEqual(text?.description, "\(path("text.fits")): not a FITS file (it does not begin with the SIMPLE keyword)")
        assertFITSError(try FITSImage(bytes: Array("hello".utf8), name: "s3://bucket/x.fits"),
                        file: "s3://bucket/x.fits", contains: ["not a FITS file"])
        assertFITSError(try FITSImage(data: Data(), name: "nothing.fits"), file: "nothing.fits",
                        contains: ["not a FITS file (it is empty)"])
    }

    func testTruncatedFiles() throws {
        assertFITSError(try FITSImage(contentsOfFile: path("cut_data.fits")), file: path("cut_data.fits"),
                        contains: ["truncated file", "HDU 0"])
        assertFITSError(try FITSImage(contentsOfFile: path("cut_header.fits")), file: path("cut_header.fits"),
                        contains: ["truncated file"])
        let cutBytes = try Data(contentsOf: URL(fileURLWithPath: path("cut_data.fits")))
        assertFITSError(try FITSImage(data: cutBytes, name: "cut.fits"), file: "cut.fits", contains: ["truncated file"])
        let gz = try Data(contentsOf: URL(fileURLWithPath: path("img.fits.gz")))
        assertFITSError(try FITSImage(data: gz.prefix(gz.count / 2), name: "cut.fits.gz"), file: "cut.fits.gz",
                        contains: ["truncated file", "gzip stream is cut short"])
        assertFITSError(try FITSImage(contentsOfFile: path("cut.fits.gz")), file: path("cut.fits.gz"),
                        contains: ["truncated file"])
    }

    func testHDUOutOfRangeAndMissingExtname() {
        let mef = path("mef.fits")
        let error = assertFITSError(try FITSImage(contentsOfFile: mef, hdu: .index(7)), file: mef,
                                    contains: ["HDU index 7 is out of range", "3 HDUs"])
        XCTAssertEqual(error?.description, "\(mef): HDU index 7 is out of range: the file has 3 HDUs (0 to 2, 0 = primary)")
        assertFITSError(try FITSImage(contentsOfFile: mef, hdu: .index(-1)), file: mef, contains: ["HDU index -1 is out of range"])
        assertFITSError(try FITSImage(contentsOfFile: mef, hdu: .index(Int.max)), file: mef, contains: ["is out of range"])
        let missing = assertFITSError(try FITSImage(contentsOfFile: mef, hdu: .extname("VARIANCE")), file: mef, contains: [])
        XCTAssertEqual(missing?.description, "\(mef): no HDU with EXTNAME 'VARIANCE'")
    }

    func testTablesAreNotImages() {
        let mef = path("mef.fits")
        let error = assertFITSError(try FITSImage(contentsOfFile: mef, hdu: .index(2)), file: mef, contains: [])
        XCTAssertEqual(error?.description, "\(mef): HDU 2 is a binary table, not an image")
        assertFITSError(try FITSImage(contentsOfFile: mef, hdu: .extname("CAT")), file: mef,
                        contains: ["HDU 2 is a binary table, not an image"])
        let only = path("table_only.fits")
        assertFITSError(try FITSImage(contentsOfFile: only), file: only,
                        contains: ["no image", "primary HDU is empty (NAXIS = 0)"])
        assertFITSError(try FITSImage(contentsOfFile: only, hdu: .index(0)), file: only,
                        contains: ["HDU 0 holds no image data (NAXIS = 0)"])
    }

    func testShapesThatAreNotAUsable2DImage() throws {
        let zero = path("zero.fits")
        let error = assertFITSError(try FITSImage(contentsOfFile: zero), file: zero, contains: [])
        XCTAssertEqual(error?.description, "\(zero): HDU 1 is a zero-sized image (NAXIS2 = 0; size 5 x 0)")
        let line = path("line.fits")
        assertFITSError(try FITSImage(contentsOfFile: line), file: line, contains: ["not a 2-D image: NAXIS = 1 (size 10)"])
        let cube = path("cube.fits")
        assertFITSError(try FITSImage(contentsOfFile: cube), file: cube, contains: ["not a 2-D image: NAXIS = 3 (size 60 x 40 x 4)"])
        let plane = try FITSImage(contentsOfFile: path("plane.fits"))
        XCTAssertEqual(plane.width, 60)
        XCTAssertEqual(plane.height, 40)
        XCTAssertEqual(plane[59, 39], 2399, "a cube of one plane reads as its 2-D plane")
    }
}
