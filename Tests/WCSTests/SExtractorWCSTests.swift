import FITS
import Foundation
import TestSupport
import WCS
import XCTest

/// SExtractor's own WCS code (source-extractor 2.25) on an image carrying astropy's test
/// headers: its ALPHA_J2000/DELTA_J2000 at its X_IMAGE/Y_IMAGE equal ours within 10 mas.
/// (SExtractor ignores SIP, so the SIP header is checked against astropy only.)
final class SExtractorWCSTests: XCTestCase {
    func testTANAgreesWithSExtractor() throws { try compare("maps/1904-66_TAN.hdr", survey: true) }
    func testTPVAgreesWithSExtractor() throws { try compare("tpvonly.hdr") }
    /// astropy's 1904-66 ZPN map has 4' pixels, on which SExtractor's own ZPN inversion is
    /// 16 mas (7e-5 pixel) from wcslib's, and a hole around its pole (PV2_0 > 0): SExtractor is
    /// compared on a ZPN a wide-field camera would use (0.36" pixels, cubic radial term).
    func testZPNAgreesWithSExtractor() throws {
        try compare(cards: ["CTYPE1  = 'RA---ZPN'", "CTYPE2  = 'DEC--ZPN'", "CRPIX1  = 120.0", "CRPIX2  = 170.0",
                            "CRVAL1  = 150.0", "CRVAL2  = 30.0", "CD1_1   = -0.0001", "CD1_2   = 0.00002",
                            "CD2_1   = 0.00001", "CD2_2   = 0.0001", "PV2_1   = 1.0", "PV2_3   = 40.0"].map(card).joined())
    }

    private func compare(_ file: String, survey: Bool = false) throws {
        var cards = wcsCards(try headerRecords(file))
        if survey {
            for index in cards.indices {
                switch cards[index].keyword {
                case "CDELT1", "CDELT2": cards[index].value = .double((cards[index].value.flatMap(number) ?? 0) / 1000)
                case "CRPIX1", "CRPIX2": cards[index].value = .double(150)
                default: break
                }
            }
        }
        try compare(cards: cards)
    }

    private func compare(cards text: String) throws {
        try compare(cards: FITSHeader(headerText: text).cards)
    }

    private func compare(cards: [FITSCard]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/source-extractor") else {
            throw XCTSkip("source-extractor is not installed (scripts/setup installs it)")
        }
        let directory = try TestSupport.makeTemporaryDirectory("sextant-sex-wcs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("image.fits")
        try starField(width: 300, height: 300, keywords: cards).write(to: image.path)
        let param = directory.appendingPathComponent("wcs.param")
        try "X_IMAGE\nY_IMAGE\nALPHA_J2000\nDELTA_J2000\n".write(to: param, atomically: true, encoding: .utf8)
        let catalog = directory.appendingPathComponent("image.cat")
        let run = try TestSupport.run("/usr/bin/source-extractor", [
            image.path, "-c", "/dev/null", "-PARAMETERS_NAME", param.path, "-CATALOG_NAME", catalog.path,
            "-CATALOG_TYPE", "FITS_1.0", "-FILTER", "N", "-VERBOSE_TYPE", "QUIET",
        ], currentDirectory: directory)
        XCTAssertEqual(run.status, 0, run.stderr)
        // The binary catalog keeps full precision (ASCII's X_IMAGE has 3 decimals: 0.24" on these pixels).
        let dump = try TestSupport.run(TestSupport.systemPython, ["-c", """
            import json, sys
            from astropy.io import fits
            d = fits.open(sys.argv[1])[1].data
            print(json.dumps([[float(r[c]) for c in ('X_IMAGE', 'Y_IMAGE', 'ALPHA_J2000', 'DELTA_J2000')] for r in d]))
            """, catalog.path])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let rows = try JSONDecoder().decode([[Double]].self, from: Data(dump.stdout.utf8))
        XCTAssertGreaterThan(rows.count, 10, "source-extractor found the stars")
        let ours = try WorldCoordinateSystem(headerRecords: try FITSImage(contentsOfFile: image.path).header.records)
            .skyPositions(x: rows.map { $0[0] }, y: rows.map { $0[1] })
        var worst = 0.0
        for (row, position) in zip(rows, ours) {
            worst = max(worst, separation(position, SkyPosition(alpha: row[2], delta: row[3])) * 3_600_000)
        }
        XCTAssertLessThan(worst, 10, "worst separation from SExtractor \(worst) mas")
    }
}

func number(_ value: FITSValue) -> Double? {
    switch value {
    case .double(let d): return d
    case .int(let i): return Double(i)
    default: return nil
    }
}

/// The WCS cards of a header, as image keywords.
func wcsCards(_ records: [String]) -> [FITSCard] {
    FITSHeader(headerText: records.joined()).cards.filter {
        $0.value != nil && WorldCoordinateSystem.isWCSKeyword($0.keyword)
    }
}

/// Gaussian stars on a flat, noisy sky: something for any extractor to find.
func starField(width: Int, height: Int, keywords: [FITSCard], seed: UInt64 = 7) -> FITSImageWriter {
    var state = seed
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    var pixels = [Float](repeating: 0, count: width * height)
    for i in pixels.indices { pixels[i] = Float(100 + 3 * (uniform() + uniform() + uniform() - 1.5)) }
    for _ in 0..<40 {
        let cx = 10 + uniform() * Double(width - 20), cy = 10 + uniform() * Double(height - 20)
        let flux = 2000 + 20000 * uniform()
        for y in max(0, Int(cy) - 8)...min(height - 1, Int(cy) + 8) {
            for x in max(0, Int(cx) - 8)...min(width - 1, Int(cx) + 8) {
                let r2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                pixels[y * width + x] += Float(flux / (2 * .pi * 2.25) * exp(-r2 / (2 * 2.25)))
            }
        }
    }
    return FITSImageWriter(width: width, height: height, pixels: .float32(pixels), keywords: keywords)
}
