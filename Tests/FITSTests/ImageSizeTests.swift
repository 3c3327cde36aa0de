import FITS
import Foundation
import TestSupport
import XCTest

/// The size of an image from its header alone, for plain and tile-compressed files.
final class ImageSizeTests: XCTestCase {
    func testHeaderGivesTheImageSizeOfPlainAndFpackedFiles() throws {
        let dir = try TestSupport.makeTemporaryDirectory("fits-size")
        let float = dir.appendingPathComponent("float.fits").path
        try FITSImageWriter(width: 300, height: 200, pixels: .float32([Float](repeating: 1, count: 60_000))).write(to: float)
        XCTAssertEqual(FITSImageSize.float32Bytes(atPath: float), 300 * 200 * 4)

        let counts = dir.appendingPathComponent("counts.fits").path
        try FITSImageWriter(width: 128, height: 64, pixels: .int16((0..<8192).map { Int16($0 % 1000) })).write(to: counts)
        XCTAssertEqual(FITSImageSize.float32Bytes(atPath: counts), 128 * 64 * 4, "int16 pixels counted as float32")

        // CFITSIO's own fpack: an empty primary, then the image's size in ZNAXISn.
        let packed = try TestSupport.run("/usr/bin/fpack", [counts])
        XCTAssertEqual(packed.status, 0, packed.stderr)
        XCTAssertEqual(FITSImageSize.float32Bytes(atPath: counts + ".fz"), 128 * 64 * 4)

        let notFITS = dir.appendingPathComponent("notes.fits").path
        try Data(repeating: 0x41, count: 4000).write(to: URL(fileURLWithPath: notFITS))
        XCTAssertNil(FITSImageSize.float32Bytes(atPath: notFITS))
        XCTAssertNil(FITSImageSize.float32Bytes(atPath: dir.appendingPathComponent("missing.fits").path))
    }

    /// The size a header declares is checked against the file's, which is the target's for a
    /// symlink (the link itself is a few bytes: it once made every symlinked input "truncated").
    func testASymlinkedFileReadsAsItsTarget() throws {
        let dir = try TestSupport.makeTemporaryDirectory("fits-symlink")
        let target = dir.appendingPathComponent("frame.fits").path
        let pixels = (0..<(64 * 48)).map { Float($0) }
        try FITSImageWriter(width: 64, height: 48, pixels: .float32(pixels)).write(to: target)
        let link = dir.appendingPathComponent("link.fits").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let image = try FITSImage(contentsOfFile: link)
        XCTAssertEqual(image.width, 64)
        XCTAssertEqual(image.pixels, pixels)
        XCTAssertEqual(FITSImageSize.float32Bytes(atPath: link), 64 * 48 * 4)
    }
}
