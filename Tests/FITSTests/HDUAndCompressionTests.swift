import FITS
import Foundation
import TestSupport
import XCTest

/// Choosing the HDU (index, EXTNAME, empty primary), gzip'd and tile-compressed input,
/// from disk and from memory.
final class HDUAndCompressionTests: FITSTestCase {
    override class var fixtureScript: String {
        """
            rng = np.random.default_rng(3)
            sci = (rng.standard_normal((40, 60)) * 100).astype(np.float32)
            err = np.abs(sci) ** 0.5
            counts = rng.integers(-3000, 30000, size=(40, 60)).astype(np.int16)
            sci.astype('<f4').tofile('sci.f4')
            err.astype('<f4').tofile('err.f4')
            counts.astype('<f4').tofile('counts.f4')
            primary = fits.PrimaryHDU()
            primary.header['TELESCOP'] = 'TEST'
            table = fits.BinTableHDU.from_columns([fits.Column(name='X', format='D', array=np.arange(3.0))], name='CAT')
            fits.HDUList([primary, fits.ImageHDU(sci, name='SCI'), fits.ImageHDU(err, name='ERR'), table]).writeto('mef.fits')
            fits.HDUList([primary, table, fits.ImageHDU(err, name='ERR')]).writeto('table_first.fits')
            fits.HDUList([primary, table]).writeto('table_only.fits')
            h = fits.Header()
            h['GAIN'] = (2.5, 'e-/ADU')
            h['OBJECT'] = 'M 51'
            fits.PrimaryHDU(counts, header=h).writeto('counts.fits')
            fits.PrimaryHDU(sci).writeto('sci.fits')
            for name in ['mef.fits', 'counts.fits', 'sci.fits']:
                with open(name, 'rb') as f, gzip.open(name + '.gz', 'wb') as g:
                    g.write(f.read())
            # Tile-compressed by astropy (lossless for integers; floats quantized, so compare to astropy's read)
            fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(counts, header=h, name='COMP')]).writeto('astropy_counts.fits.fz')
            fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(sci, name='COMP')]).writeto('astropy_sci.fits.fz')
            fits.getdata('astropy_sci.fits.fz', 'COMP').astype('<f4').tofile('astropy_sci_fz.f4')
            # Tile-compressed by CFITSIO's own fpack (Rice, lossless for integers): counts.fits.fz
            import subprocess, shutil
            subprocess.run(['fpack', 'counts.fits'], check=True)
            shutil.copy('sci.fits', 'odd[1] name.fits')
            """
    }

    func testIndexAndExtnameChooseTheHDU() throws {
        let sci = try FITSImage(contentsOfFile: path("mef.fits"), hdu: .index(1))
        assertBitIdentical(sci.pixels, try float32File("sci.f4"), "index 1")
        XCTAssertEqual(sci.hdu, 1)
        XCTAssertEqual(sci.extname, "SCI")
        let err = try FITSImage(contentsOfFile: path("mef.fits"), hdu: .extname("ERR"))
        assertBitIdentical(err.pixels, try float32File("err.f4"), "EXTNAME ERR")
        XCTAssertEqual(err.hdu, 2)
        XCTAssertEqual(err.extname, "ERR")
        let lower = try FITSImage(contentsOfFile: path("mef.fits"), hdu: .extname("err"))
        XCTAssertEqual(lower.hdu, 2, "EXTNAME matches ignoring case")
    }

    func testEmptyPrimaryFallsBackToTheFirstImageExtension() throws {
        let image = try FITSImage(contentsOfFile: path("mef.fits"))
        XCTAssertEqual(image.hdu, 1)
        assertBitIdentical(image.pixels, try float32File("sci.f4"), "automatic")
        let pastTable = try FITSImage(contentsOfFile: path("table_first.fits"))
        XCTAssertEqual(pastTable.hdu, 2, "skips the table to reach the image")
        assertBitIdentical(pastTable.pixels, try float32File("err.f4"), "after the table")
    }

    func testPathsAreTakenLiterally() throws {
        // CFITSIO's extended syntax would read "[1]" as an HDU selector.
        let image = try FITSImage(contentsOfFile: path("odd[1] name.fits"))
        assertBitIdentical(image.pixels, try float32File("sci.f4"), "odd name")
    }

    func testGzipFromDiskAndMemory() throws {
        for name in ["mef.fits", "counts.fits", "sci.fits"] {
            let plain = try FITSImage(contentsOfFile: path(name))
            let gz = try FITSImage(contentsOfFile: path(name + ".gz"))
            let gzBytes = try Data(contentsOf: URL(fileURLWithPath: path(name + ".gz")))
            let gzMemory = try FITSImage(data: gzBytes, name: name + ".gz")
            assertBitIdentical(gz.pixels, plain.pixels, "\(name).gz from disk")
            assertBitIdentical(gzMemory.pixels, plain.pixels, "\(name).gz from memory")
            XCTAssertEqual(gz.header, plain.header)
            XCTAssertEqual(gzMemory.header, plain.header)
        }
    }

    func testTileCompressedFromDiskAndMemory() throws {
        let expectedCounts = try float32File("counts.f4")
        for name in ["counts.fits.fz", "astropy_counts.fits.fz"] {
            let fz = try FITSImage(contentsOfFile: path(name))
            XCTAssertEqual(fz.hdu, 1, "\(name): the image is in the first extension")
            XCTAssertEqual(fz.bitpix, 16)
            XCTAssertEqual(fz.width, 60)
            XCTAssertEqual(fz.height, 40)
            assertBitIdentical(fz.pixels, expectedCounts, name)
            // The image's own header, not the compressed table's.
            XCTAssertEqual(fz.header.int("BITPIX"), 16)
            XCTAssertEqual(fz.header.int("NAXIS1"), 60)
            XCTAssertNil(fz.header["ZIMAGE"])
            XCTAssertEqual(fz.header.double("GAIN"), 2.5)
            XCTAssertEqual(fz.header.string("OBJECT"), "M 51")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path(name)))
            assertBitIdentical(try FITSImage(data: bytes, name: name).pixels, expectedCounts, "\(name) from memory")
        }
        let byName = try FITSImage(contentsOfFile: path("astropy_counts.fits.fz"), hdu: .extname("COMP"))
        XCTAssertEqual(byName.hdu, 1)
        let quantized = try FITSImage(contentsOfFile: path("astropy_sci.fits.fz"))
        assertBitIdentical(quantized.pixels, try float32File("astropy_sci_fz.f4"), "quantized float .fz as astropy reads it")
    }
}
