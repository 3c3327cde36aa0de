import FITS
import Foundation
import TestSupport
import XCTest

/// Catalog tables written by FITSTableWriter, read back by astropy and checked by fitsverify.
final class TableWriterTests: FITSTestCase {
    private func catalog(rows: Int) -> FITSTableWriter {
        let radii = 3
        return FITSTableWriter(
            columns: [
                FITSColumn("NUMBER", .int32((0..<rows).map { Int32($0 + 1) })),
                FITSColumn("X_IMAGE", .double((0..<rows).map { Double($0) * 1.25 + 0.1 }), unit: "pixel"),
                FITSColumn("FLUX", .float((0..<rows).map { Float($0) / 3 }), unit: "count"),
                FITSColumn("FLAGS", .int16((0..<rows).map { Int16($0 % 4) })),
                FITSColumn("ID64", .int64((0..<rows).map { Int64($0) * 10_000_000_000 })),
                FITSColumn("FLUX_APER", .float((0..<rows * radii).map { Float($0) + 0.5 }), count: radii, unit: "count"),
            ],
            keywords: [
                .string("INPUT", "s3://survey/raw/frame-000123.fits.fz", comment: "input image"),
                .int("HDU", 1, comment: "HDU of the input image, 0 = primary"),
                .double("THRESH", 1.5, comment: "detection threshold (sigma)"),
                .double("GAIN", 4.62e-3),
                .bool("FILTERED", true, comment: "convolved before detection"),
                .string("SOFTWARE", "sextant 0.1.0"),
                .string("LONGNAME", String(repeating: "abcdefghij", count: 9), comment: "a long string"),
                .history("written by the FITS tests"),
            ],
            extname: "CATALOG")
    }

    func testAstropyReadsColumnsUnitsValuesAndKeywords() throws {
        let file = path("catalog.fits")
        try catalog(rows: 5).write(to: file)
        let output = try astropy("""
            with fits.open('catalog.fits') as f:
                t = f['CATALOG']
                h = t.header
                d = t.data
                print(json.dumps({
                    'hdus': len(f), 'rows': len(d), 'names': d.columns.names,
                    'formats': [c.format for c in d.columns], 'units': [c.unit for c in d.columns],
                    'number': d['NUMBER'].tolist(), 'x': d['X_IMAGE'].tolist(), 'flux': d['FLUX'].tolist(),
                    'flags': d['FLAGS'].tolist(), 'id64': d['ID64'].tolist(),
                    'aper_shape': list(d['FLUX_APER'].shape), 'aper': d['FLUX_APER'].tolist(),
                    'input': h['INPUT'], 'input_comment': h.comments['INPUT'], 'hdu': h['HDU'],
                    'thresh': h['THRESH'], 'gain': h['GAIN'], 'filtered': h['FILTERED'],
                    'software': h['SOFTWARE'], 'long': h['LONGNAME'], 'history': list(h['HISTORY']),
                    'has_date': 'DATE' in h or 'DATE' in f[0].header,
                }))
            """)
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        XCTAssertEqual(json["hdus"] as? Int, 2)
        XCTAssertEqual(json["rows"] as? Int, 5)
        XCTAssertEqual(json["names"] as? [String], ["NUMBER", "X_IMAGE", "FLUX", "FLAGS", "ID64", "FLUX_APER"])
        XCTAssertEqual(json["formats"] as? [String], ["J", "D", "E", "I", "K", "3E"])
        XCTAssertEqual((json["units"] as? [Any])?.map { $0 as? String }, [nil, "pixel", "count", nil, nil, "count"])
        XCTAssertEqual(json["number"] as? [Int], [1, 2, 3, 4, 5])
        XCTAssertEqual(json["x"] as? [Double], (0..<5).map { Double($0) * 1.25 + 0.1 })
        XCTAssertEqual((json["flux"] as? [Double])?.map(Float.init), (0..<5).map { Float($0) / 3 })
        XCTAssertEqual(json["flags"] as? [Int], [0, 1, 2, 3, 0])
        XCTAssertEqual(json["id64"] as? [Int], (0..<5).map { $0 * 10_000_000_000 })
        XCTAssertEqual(json["aper_shape"] as? [Int], [5, 3])
        XCTAssertEqual(json["aper"] as? [[Double]], (0..<5).map { r in (0..<3).map { Double(r * 3 + $0) + 0.5 } })
        XCTAssertEqual(json["input"] as? String, "s3://survey/raw/frame-000123.fits.fz")
        XCTAssertEqual(json["input_comment"] as? String, "input image")
        XCTAssertEqual(json["hdu"] as? Int, 1)
        XCTAssertEqual(json["thresh"] as? Double, 1.5)
        XCTAssertEqual(json["gain"] as? Double, 4.62e-3)
        XCTAssertEqual(json["filtered"] as? Bool, true)
        XCTAssertEqual(json["software"] as? String, "sextant 0.1.0")
        XCTAssertEqual(json["long"] as? String, String(repeating: "abcdefghij", count: 9))
        XCTAssertEqual(json["history"] as? [String], ["written by the FITS tests"])
        XCTAssertEqual(json["has_date"] as? Bool, false)
    }

    func testFitsverifyFindsNoProblem() throws {
        let fitsverify = "/usr/bin/fitsverify"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: fitsverify), "fitsverify is not installed")
        for rows in [0, 1, 200] {
            let file = path("verify-\(rows).fits")
            try catalog(rows: rows).write(to: file)
            let result = try TestSupport.run(fitsverify, [file])
            XCTAssertEqual(result.status, 0, "fitsverify on \(rows) rows: \(result.stdout)")
            XCTAssertTrue(result.stdout.contains("found 0 warning(s) and 0 error(s)"), result.stdout)
        }
    }

    func testOutputIsDeterministicAndMatchesWhatItWritesToDisk() throws {
        let first = try catalog(rows: 50).data()
        let second = try catalog(rows: 50).data()
        XCTAssertEqual(first, second, "same input, same bytes")
        XCTAssertEqual(first.count % 2880, 0, "whole FITS blocks")
        let file = path("same.fits")
        try catalog(rows: 50).write(to: file)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), first)
        // Astropy's own reading of the bytes confirms the length covers the whole table.
        let rows = try astropy("print(len(fits.getdata('same.fits', 'CATALOG')))")
        XCTAssertEqual(rows.trimmingCharacters(in: .whitespacesAndNewlines), "50")
    }

    func testEmptyCatalogIsAValidTable() throws {
        try catalog(rows: 0).write(to: path("empty.fits"))
        let output = try astropy("""
            d = fits.getdata('empty.fits', 'CATALOG')
            print(len(d), d.columns.names[-1], d.columns[-1].format)
            """)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "0 FLUX_APER 3E")
    }

    func testBadInputIsRefusedWithAClearError() {
        let ragged = FITSTableWriter(columns: [
            FITSColumn("A", .double([1, 2, 3])),
            FITSColumn("B", .float([1, 2, 3, 4, 5]), count: 2),
        ])
        assertFITSError(try ragged.data(name: "cat.fits"), file: "cat.fits",
                        contains: ["column 'B' has 5 values; 3 rows of 2 need 6"])
        let twice = FITSTableWriter(columns: [FITSColumn("A", .double([1])), FITSColumn("a", .double([2]))])
        assertFITSError(try twice.data(name: "cat.fits"), file: "cat.fits", contains: ["column 'a' appears twice"])
        let structural = FITSTableWriter(columns: [FITSColumn("A", .double([1]))], keywords: [.int("TFORM1", 3)])
        assertFITSError(try structural.data(name: "cat.fits"), file: "cat.fits", contains: ["TFORM1", "set by the writer"])
        let badName = FITSTableWriter(columns: [FITSColumn("A", .double([1]))], keywords: [.int("TOO_LONG_NAME", 3)])
        assertFITSError(try badName.data(name: "cat.fits"), file: "cat.fits", contains: ["not a FITS keyword name"])
        let nan = FITSTableWriter(columns: [FITSColumn("A", .double([1]))], keywords: [.double("ZP", .nan)])
        assertFITSError(try nan.data(name: "cat.fits"), file: "cat.fits", contains: ["ZP", "cannot store"])
    }
}
