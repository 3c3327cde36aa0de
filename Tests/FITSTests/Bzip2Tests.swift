import FITS
import Foundation
import TestSupport
import XCTest

/// SDSS ships its frames as .fits.bz2: read them from disk and from memory, bounded, with
/// one clear error for a damaged or cut-short stream.
final class Bzip2Tests: FITSTestCase {
    override class var fixtureScript: String {
        """
            import bz2
            rng = np.random.default_rng(5)
            sci = (rng.standard_normal((48, 64)) * 50 + 1000).astype(np.float32)
            fits.PrimaryHDU(sci).writeto('frame.fits')
            data = open('frame.fits', 'rb').read()
            open('frame.fits.bz2', 'wb').write(bz2.compress(data))
            open('short.fits.bz2', 'wb').write(bz2.compress(data)[:-40])
            damaged = bytearray(bz2.compress(data)); damaged[200] ^= 0xFF
            open('damaged.fits.bz2', 'wb').write(bytes(damaged))
            open('zeros.fits.bz2', 'wb').write(bz2.compress(bytes(64 << 20)))
            """
    }

    func testBzip2FromDiskAndMemoryEqualsThePlainFile() throws {
        let plain = try FITSImage(contentsOfFile: path("frame.fits"))
        let fromDisk = try FITSImage(contentsOfFile: path("frame.fits.bz2"))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path("frame.fits.bz2")))
        let fromMemory = try FITSImage(data: bytes, name: "frame.fits.bz2")
        assertBitIdentical(fromDisk.pixels, plain.pixels, "from disk")
        assertBitIdentical(fromMemory.pixels, plain.pixels, "from memory")
        XCTAssertEqual(fromDisk.header, plain.header)
        XCTAssertEqual(fromMemory.width, 64)
        XCTAssertEqual(fromMemory.height, 48)
    }

    func testCutShortDamagedAndBombStreamsAreOneLineErrors() throws {
        for (name, expected) in [("short.fits.bz2", "the bzip2 stream is cut short or damaged"),
                                 ("damaged.fits.bz2", "the bzip2 stream is cut short or damaged"),
                                 ("zeros.fits.bz2", "times its size)")] {
            XCTAssertThrowsError(try FITSImage(contentsOfFile: path(name)), name) { error in
                XCTAssertTrue("\(error)".hasPrefix(path(name) + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path(name)))
            XCTAssertThrowsError(try FITSImage(data: bytes, name: name), name) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
