import FITS
import Foundation
import TestSupport
import XCTest

/// The real 16-bit ESO image with BSCALE/BZERO, against astropy's double-precision scaling.
final class RealImageTests: FITSTestCase {
    func testImageFitsMatchesAstropyScaledInDoublePrecision() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "test data image.fits not found")
        try astropy("""
            with fits.open(sys.argv[2], do_not_scale_image_data=True) as f:
                h = f[0].header
                raw = f[0].data
                (raw.astype(np.float64) * h.get('BSCALE', 1) + h.get('BZERO', 0)).astype('<f4').tofile('expected.f4')
                print(json.dumps({'bitpix': h['BITPIX'], 'naxis1': h['NAXIS1'], 'naxis2': h['NAXIS2'],
                                  'bscale': h['BSCALE'], 'bzero': h['BZERO'], 'ncards': len(h)}))
            """.replacingOccurrences(of: "sys.argv[2]", with: "'\(url.path)'"))
        let image = try FITSImage(contentsOfFile: url.path)
        let expected = try float32File("expected.f4")
        XCTAssertEqual(image.width, 256)
        XCTAssertEqual(image.height, 256)
        XCTAssertEqual(image.bitpix, 16)
        XCTAssertEqual(image.hdu, 0)
        XCTAssertNil(image.mask)
        assertBitIdentical(image.pixels, expected, "image.fits")
        XCTAssertEqual(image.header.int("BITPIX"), 16)
        XCTAssertNotNil(image.header.double("BSCALE"))
        XCTAssertNotNil(image.header.double("BZERO"))
    }

    func testHeaderMatchesAstropyCardForCard() throws {
        let url = try XCTUnwrap(TestSupport.dataFile("image.fits"), "test data image.fits not found")
        let output = try astropy("""
            h = fits.getheader('\(url.path)')
            out = []
            for c in h.cards:
                v = c.value
                if c.image[8:10] != '= ' and not c.image.startswith('HIERARCH'): v = ['text', c.image[8:].rstrip()]
                elif isinstance(v, bool): v = ['bool', v]
                elif isinstance(v, int): v = ['int', v]
                elif isinstance(v, float): v = ['double', v]
                elif isinstance(v, str) and c.keyword not in ('COMMENT', 'HISTORY', ''): v = ['string', v]
                else: v = None
                out.append([c.keyword, v])
            print(json.dumps(out))
            """)
        let expected = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [[Any]]
        let header = try FITSImage(contentsOfFile: url.path).header
        XCTAssertEqual(header.cards.count, expected.count, "card count")
        for (card, reference) in zip(header.cards, expected) {
            XCTAssertEqual(card.keyword, reference[0] as? String)
            guard let typed = reference[1] as? [Any] else { XCTAssertNil(card.value, card.keyword); continue }
            switch typed[0] as! String {
            case "text":
                XCTAssertNil(card.value, card.keyword)
                XCTAssertEqual(card.comment, typed[1] as? String, card.keyword)
            case "bool": XCTAssertEqual(card.value, .bool(typed[1] as! Bool), card.keyword)
            case "int": XCTAssertEqual(card.value, .int((typed[1] as! NSNumber).intValue), card.keyword)
            case "double": XCTAssertEqual(card.value, .double((typed[1] as! NSNumber).doubleValue), card.keyword)
            default: XCTAssertEqual(card.value, .string(typed[1] as! String), card.keyword)
            }
        }
    }
}
