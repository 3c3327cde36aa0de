import HEALPix
import XCTest

/// SplitMix64: the same numbers on every run and machine.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

final class HEALPixTests: XCTestCase {
    func testBasePixelsAndCountsAreHEALPixs() throws {
        let base = try HEALPix(order: 0)
        // Base pixels 0-3 are north, 4-7 equatorial, 8-11 south, numbered eastward from RA 0 (Górski et al. 2005).
        XCTAssertEqual(base.pixel(ra: 45, dec: 60), 0)
        XCTAssertEqual(base.pixel(ra: 135, dec: 60), 1)
        XCTAssertEqual(base.pixel(ra: 0, dec: 0), 4)
        XCTAssertEqual(base.pixel(ra: 90, dec: 0), 5)
        XCTAssertEqual(base.pixel(ra: 45, dec: -60), 8)
        XCTAssertEqual(base.pixel(ra: 405, dec: -60), 8, "RA wraps")
        XCTAssertEqual(base.pixel(ra: -315, dec: -60), 8)
        XCTAssertEqual(try HEALPix(order: 10).pixelCount, 12 << 20)
        XCTAssertEqual(try HEALPix(order: 29).nside, 1 << 29)
        XCTAssertEqual(try HEALPix(order: 12).resolution * 3600, 51.5, accuracy: 0.1, "order 12: 0.86 arcmin tiles")
        XCTAssertThrowsError(try HEALPix(order: 30))
        XCTAssertThrowsError(try HEALPix(order: -1))
    }

    func testNestedPixelsNestAndCentresRoundTrip() throws {
        var random = SeededRandom(state: 7)
        for order in [3, 11, 20] {
            let coarse = try HEALPix(order: order), fine = try HEALPix(order: order + 1)
            for _ in 0..<500 {
                let ra = Double.random(in: 0..<360, using: &random)
                let dec = asin(Double.random(in: -1...1, using: &random)) * 180 / .pi
                XCTAssertEqual(fine.pixel(ra: ra, dec: dec) / 4, coarse.pixel(ra: ra, dec: dec), "\(ra), \(dec)")
                let pixel = coarse.pixel(ra: ra, dec: dec)
                let centre = coarse.center(of: pixel)
                XCTAssertEqual(coarse.pixel(ra: centre.ra, dec: centre.dec), pixel)
            }
        }
    }

    func testAPixelsCentreIsTheCornerItsChildrenShare() throws {
        let parent = try HEALPix(order: 9), tiles = try HEALPix(order: 10)
        let centre = parent.center(of: 1_234_567)
        let tiny = 1e-7
        let around = Set([(1.0, 1.0), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0)].map { dx, dy in
            tiles.pixel(ra: centre.ra + dx * tiny, dec: centre.dec + dy * tiny)
        })
        XCTAssertEqual(around, Set((0..<4).map { 4 * 1_234_567 + Int64($0) }))
    }
}
