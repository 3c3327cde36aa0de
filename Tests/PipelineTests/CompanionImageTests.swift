import Extraction
import FITS
@testable import Pipeline
import XCTest

/// WEIGHT_IMAGE / FLAG_IMAGE rules and check-image names.
final class CompanionImageTests: XCTestCase {
    func testRulesResolveBesideTheInputOrAsGiven() {
        let local = InputFile(uri: "/data/night1/f.fits.gz", relativePath: "night1/f.fits.gz")
        let s3 = InputFile(uri: "s3://survey/raw/n1/f.fits", relativePath: "n1/f.fits")
        func resolved(_ rule: String, _ input: InputFile) -> (String, HDUSelection?) {
            let reference = CompanionImage.resolve(rule, for: input)
            return (reference.input.uri, reference.hdu)
        }
        XCTAssertEqual(resolved("{stem}.weight.fits", local).0, "/data/night1/f.weight.fits")
        XCTAssertEqual(resolved("{stem}.weight.fits", s3).0, "s3://survey/raw/n1/f.weight.fits")
        XCTAssertEqual(resolved("./{name}.flag", s3).0, "s3://survey/raw/n1/f.fits.flag")
        XCTAssertEqual(resolved("/maps/{stem}.wht.fits", local).0, "/maps/f.wht.fits")
        XCTAssertEqual(resolved("s3://maps/{stem}.fits", local).0, "s3://maps/f.fits")
        XCTAssertEqual(resolved("weight.fits", local).0, "/data/night1/weight.fits")
        let hdu = resolved("{stem}.w.fits[2]", local)
        XCTAssertEqual(hdu.0, "/data/night1/f.w.fits")
        XCTAssertEqual(hdu.1, .index(2))
        let own = resolved("[WEIGHT]", s3)
        XCTAssertEqual(own.0, s3.uri, "an HDU of the input itself")
        XCTAssertEqual(own.1, .extname("WEIGHT"))
        XCTAssertNil(resolved("{stem}.weight.fits", local).1)
    }

    func testCheckImagesAreNamedAfterTheInputBesideItsCatalog() throws {
        let requests = [CheckImageRequest(type: .segmentation, name: "{stem}.seg.fits"),
                        CheckImageRequest(type: .background, name: "back.fits"),
                        CheckImageRequest(type: .minusBackground)]
        func name(_ type: CheckImageType, hdu: Int? = nil) -> String {
            CheckImageNaming.name(type, requests: requests, relativePath: "night1/f.fits.gz", hdu: hdu)
        }
        XCTAssertEqual(name(.segmentation), "night1/f.seg.fits")
        XCTAssertEqual(name(.background), "night1/f.back.fits")
        XCTAssertEqual(name(.minusBackground), "night1/f.minus-background.fits")
        XCTAssertEqual(name(.objects), "night1/f.objects.fits")
        XCTAssertEqual(name(.segmentation, hdu: 3), "night1/f.hdu3.seg.fits")
        XCTAssertThrowsError(try CheckImageNaming.validate([CheckImageRequest(type: .objects, name: "../x.fits")]))
        XCTAssertThrowsError(try CheckImageNaming.validate([CheckImageRequest(type: .objects, name: "/tmp/x.fits")]))
        XCTAssertNoThrow(try CheckImageNaming.validate(requests))
    }
}
