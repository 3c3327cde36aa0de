import FITS
import Foundation
import TestSupport
import XCTest

/// Headers that lie about sizes fail with one line naming the file, before any pixel buffer is
/// made: no overflow trap, no huge allocation (issue 13's two files among them).
final class HostileHeaderTests: FITSTestCase {
    override class var fixtureScript: String {
        """
            img = (np.arange(64 * 48) % 97).astype(np.int16).reshape(48, 64)
            fits.PrimaryHDU(img).writeto('small.fits')
            fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(img.astype(np.float32))]).writeto('small.fz')
            zeros = np.zeros((1024, 1024), np.float32)
            import io
            buffer = io.BytesIO()
            fits.PrimaryHDU(zeros).writeto(buffer)
            open('bomb.fits.gz', 'wb').write(gzip.compress(buffer.getvalue() * 4))
            # Rice tiles that lie: each tile's stream says "Rice, fs = 1" and then holds only zero
            # bits, so CFITSIO's decoder would read past the tile looking for a one bit.
            fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(img, compression_type='RICE_1')]).writeto('rice.fz')
            raw = bytearray(open('rice.fz', 'rb').read())
            cards = [raw[i:i + 80].decode('latin-1') for i in range(2880, len(raw), 80)]
            value = lambda key: int(next(c for c in cards if c.startswith(key.ljust(8) + '=')).split('=')[1].split('/')[0])
            end = 2880 + 80 * (next(i for i, c in enumerate(cards) if c.startswith('END ')) + 1)
            start = (end + 2879) // 2880 * 2880
            heap = start + value('NAXIS1') * value('NAXIS2')
            for row in range(value('NAXIS2')):
                length, offset = struct.unpack('>ii', raw[start + row * value('NAXIS1'):][:8])
                raw[heap + offset:heap + offset + length] = bytes(length)
                raw[heap + offset + 2] = 0x20  # after the 2-byte first value (BYTEPIX 2): fs = 1
            open('rice-lies.fz', 'wb').write(raw)
            """
    }

    private func write(_ data: Data, _ name: String) throws -> String {
        let file = path(name)
        try data.write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Both through a path and through bytes in memory.
    private func assertFails(_ data: Data, _ name: String, limits: InputLimits = .standard, contains phrases: [String],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let onDisk = try write(data, name)
        assertFITSError(try FITSImage(contentsOfFile: onDisk, limits: limits), file: onDisk, contains: phrases,
                        file: file, line: line)
        assertFITSError(try FITSImage(data: data, name: "mem/" + name, limits: limits), file: "mem/" + name,
                        contains: phrases, file: file, line: line)
    }

    func testTheIssuesTwoFilesFailInsteadOfKillingTheProcess() throws {
        // 2^32 x 2^32 trapped on overflow (SIGILL); 200,000 x 200,000 aborted on a 160 GB allocation.
        let overflow = HostileFITS.image(width: 1 << 32, height: 1 << 32)
        XCTAssertEqual(overflow.count, 5760)
        try assertFails(overflow, "overflow.fits", contains: ["too large", "4294967296 x 4294967296", "sextant.input.maxPixels"])
        try assertFails(HostileFITS.image(width: 200_000, height: 200_000), "huge.fits",
                        contains: ["too large", "200000 x 200000 pixels, more than sextant.input.maxPixels = 268435456"])
        try assertFails(HostileFITS.image(width: Int.max, height: 3), "max.fits", contains: ["too large"])
    }

    func testAHeaderClaimingMoreDataThanTheFileHoldsIsTruncated() throws {
        // Within the pixel cap, but 10,000 x 10,000 int16 needs 200 MB and the file has 5.7 KB.
        try assertFails(HostileFITS.image(width: 10_000, height: 10_000), "short.fits",
                        contains: ["truncated file", "HDU 0 needs 200002880 bytes but the file has only 5760"])
    }

    func testBadBitpixAndNegativeCountsAreRefused() throws {
        for bitpix in [7, 0, -8, Int.min] {
            try assertFails(HostileFITS.image(width: 10, height: 10, bitpix: bitpix), "bitpix\(bitpix).fits", contains: [])
        }
        let negative = HostileFITS.file(cards: [HostileFITS.card("SIMPLE", "T"), HostileFITS.card("BITPIX", "16"),
                                                HostileFITS.card("NAXIS", "2"), HostileFITS.card("NAXIS1", "-5"),
                                                HostileFITS.card("NAXIS2", "10")], data: Data(count: 2880))
        try assertFails(negative, "negative.fits", contains: [])
    }

    func testMaxPixelsIsConfigurable() throws {
        let small = path("small.fits")
        XCTAssertEqual(try FITSImage(contentsOfFile: small, limits: InputLimits(maxPixels: 64 * 48)).pixels.count, 64 * 48)
        assertFITSError(try FITSImage(contentsOfFile: small, limits: InputLimits(maxPixels: 64 * 48 - 1)), file: small,
                        contains: ["HDU 0 is 64 x 48 pixels, more than sextant.input.maxPixels = 3071"])
        let fz = path("small.fz")
        assertFITSError(try FITSImage(contentsOfFile: fz, limits: InputLimits(maxPixels: 1000)), file: fz,
                        contains: ["HDU 1 is 64 x 48 pixels"])
    }

    func testAGzipBombStopsAtTheInflationLimit() throws {
        let bomb = path("bomb.fits.gz")
        let limits = InputLimits(maxPixels: 1 << 20, maxInflatedBytes: 1 << 20)
        assertFITSError(try FITSImage(contentsOfFile: bomb, limits: limits), file: bomb,
                        contains: ["too large", "inflates to", "more than sextant.input.maxInflatedBytes = 1048576"])
        let data = try Data(contentsOf: URL(fileURLWithPath: bomb))
        assertFITSError(try FITSImage(data: data, name: "b.fits.gz", limits: limits), file: "b.fits.gz",
                        contains: ["sextant.input.maxInflatedBytes"])
        // Within the default limit the same file reads (its first image, 1024 x 1024).
        XCTAssertEqual(try FITSImage(contentsOfFile: bomb).width, 1024)
    }

    func testCompressedTablesThatLieAreRefused() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: path("small.fz")))
        XCTAssertEqual(try FITSImage(data: original, name: "good.fz").pixels.count, 64 * 48)
        try assertFails(replacing("ZTILE1", with: "4294967296", in: original), "tile.fz",
                        contains: ["too large", "compression tiles of 4294967296 x 1"])
        // One row per tile: 48 tiles; a table claiming 3 rows (its data still fits the file) lies.
        // (CFITSIO notices this one itself on opening the HDU; our own check is a second line.)
        try assertFails(replacing("NAXIS2", with: "3", in: original), "rows.fz", contains: ["HDU 1"])
        try assertFails(replacing("PCOUNT", with: "10", in: original), "heap.fz",
                        contains: ["beyond the heap's 10 bytes"])
        try assertFails(replacing("ZNAXIS1", with: "200000", in: original), "znaxis.fz", contains: [])
    }

    /// CFITSIO's Rice decoder does not check the end of a tile inside a block: a stream that lies
    /// would be read past (found by scripts/fuzz/fits-libfuzzer). The bits are walked first.
    func testRiceTilesThatEndBeforeTheirPixelsAreRefused() throws {
        let honest = try Data(contentsOf: URL(fileURLWithPath: path("rice.fz")))
        XCTAssertEqual(try FITSImage(data: honest, name: "rice.fz").pixels[100], Float(100 % 97))
        let lying = try Data(contentsOf: URL(fileURLWithPath: path("rice-lies.fz")))
        try assertFails(lying, "lies.fz", contains: ["HDU 1", "Rice-compressed tile 1 ends before its 64 pixels"])
        try assertFails(replacing("ZVAL1", with: "-32", in: honest), "blocksize.fz", contains: ["Rice BLOCKSIZE of -32"])
        // CFITSIO divides by BLOCKSIZE and ZTILEn as it opens the HDU (SIGFPE on 0): the raw
        // header walk refuses them before CFITSIO sees the file. A failure here kills the test.
        try assertFails(replacing("ZVAL1", with: "0", in: honest), "blocksize0.fz", contains: ["HDU 1 has a Rice BLOCKSIZE of 0"])
        try assertFails(replacing("ZTILE1", with: "0", in: honest), "tile0.fz", contains: ["HDU 1 has ZTILE1 = 0"])
        try assertFails(replacing("ZTILE2", with: "0", in: honest), "tile2-0.fz", contains: ["HDU 1 has ZTILE2 = 0"])
    }

    /// Three more ways CFITSIO crashes while it moves to an HDU (found by scripts/fuzz/fits-libfuzzer
    /// in CI; each aborted or raised SIGFPE in the fuzzer, so a regression kills this test).
    func testCardsThatWouldOverflowOrDivideInsideCFITSIOAreRefused() throws {
        let honest = try Data(contentsOf: URL(fileURLWithPath: path("rice.fz")))
        // A TTYPEn value filling the card unquoted overflows CFITSIO's 70-byte column name.
        let name = String(repeating: "X", count: 70)
        try assertFails(replacing("TTYPE1", with: name, in: honest), "ttype.fz",
                        contains: ["HDU 1 has an unquoted TTYPE1 value of 69 bytes or more"])
        // CFITSIO takes "=" in column 9 alone as a value indicator: the value then starts in column 10.
        var squeezed = [UInt8](honest)
        let card = try XCTUnwrap(stride(from: 2880, to: squeezed.count - 80, by: 80).first { String(decoding: squeezed[$0..<$0 + 6], as: UTF8.self) == "TTYPE1" })
        squeezed.replaceSubrange(card..<card + 80, with: Array(("TTYPE1  =" + String(repeating: "X", count: 71)).utf8))
        try assertFails(Data(squeezed), "squeezed.fz", contains: ["HDU 1 has an unquoted TTYPE1 value"])
        // A compression integer CFITSIO cannot convert, 29 bytes or longer, overflows its error
        // message: too many digits, junk after the number, or a complex number.
        for (keyword, value) in [("ZNAXIS1", String(repeating: "9", count: 40)), ("ZBITPIX", "-32" + String(repeating: " x", count: 15)),
                                 ("ZVAL1", "(      4 / bytes per pixel (1, 2, 4, or 8)")] {
            try assertFails(replacing(keyword, with: value, in: honest), "\(keyword).fz",
                            contains: ["HDU 1 has \(keyword) = ", "not a number of at most 28 characters"])
        }
        // A second ZTILE2 card that is not a number: CFITSIO may read it and divide by 0.
        var twice = [UInt8](honest)
        let tile = Array(HostileFITS.card("ZTILE2", "'BYTEPIX '").utf8)
        let at = try XCTUnwrap(stride(from: 2880, to: twice.count - 80, by: 80).first { String(decoding: twice[$0..<$0 + 6], as: UTF8.self) == "ZNAME2" })
        twice.replaceSubrange(at..<at + 80, with: tile)
        try assertFails(Data(twice), "twice.fz", contains: ["HDU 1 has ZTILE2 = 'BYTEPIX ': not a number"])
        // The honest file still reads: none of these checks refuses a real header.
        XCTAssertEqual(try FITSImage(data: honest, name: "rice.fz").pixels.count, 64 * 48)
    }

    /// A file in memory that ends mid-record is read as far as it goes: CFITSIO's memory driver
    /// reads whole 2880-byte records, so such a buffer is copied into a padded one first.
    func testAFileInMemoryThatEndsMidRecordReadsWithinItsBytes() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: path("small.fits")))
        let image = try FITSImage(data: original.prefix(2880 + 64 * 48 * 2), name: "cut.fits")
        XCTAssertEqual(image.pixels.count, 64 * 48)
        XCTAssertEqual(image.pixels[96], Float(96 % 97))
        assertFITSError(try FITSImage(data: original.prefix(2880 + 100), name: "short.fits"), file: "short.fits",
                        contains: ["needs", "bytes but the file has only 2980"])
    }

    /// The file with the value of the first `keyword` card of an extension replaced.
    private func replacing(_ keyword: String, with value: String, in data: Data) throws -> Data {
        var bytes = [UInt8](data)
        let wanted = Array(keyword.padding(toLength: 8, withPad: " ", startingAt: 0).utf8)
        guard let offset = stride(from: 2880, to: bytes.count - 80, by: 80).first(where: { Array(bytes[$0..<$0 + 8]) == wanted }) else {
            struct MissingCard: Error {}
            XCTFail("astropy's fpack file has no \(keyword) card")
            throw MissingCard()
        }
        bytes.replaceSubrange(offset..<offset + 80, with: Array(HostileFITS.card(keyword, value).utf8))
        return Data(bytes)
    }
}
