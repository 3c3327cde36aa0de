import FITS
import Foundation
import XCTest

final class TableReaderTests: XCTestCase {
    /// What the table writer writes, the reader reads back as Double: scalar numeric columns by
    /// name (any case), numeric header cards; vector columns and missing names are left out.
    func testReadsBackTheWrittenColumnsAndKeywordsOfEveryTable() throws {
        let first = FITSTableWriter(columns: [
            FITSColumn("ALPHA_J2000", .double([150.1, 150.2, .nan])),
            FITSColumn("FLAGS", .int16([0, 3, 16])),
            FITSColumn("FLUX_APER", .float([1, 2, 3, 4, 5, 6]), count: 2),
        ], keywords: [.int("IMWIDTH", 2048), .string("INPUT", "a.fits")])
        let second = FITSTableWriter(columns: [FITSColumn("alpha_j2000", .double([10]))], keywords: [])
        let data = try FITSTableWriter.data(of: [first, second], name: "two.cat.fits")
        let tables = try FITSTableReader.tables(data: data, name: "two.cat.fits",
                                                columns: ["ALPHA_J2000", "FLAGS", "FLUX_APER", "ABSENT"],
                                                keywords: ["IMWIDTH", "INPUT", "NOPE"])
        XCTAssertEqual(tables.map(\.hdu), [1, 2])
        XCTAssertEqual(tables[0].rowCount, 3)
        XCTAssertEqual(tables[0].columns["ALPHA_J2000"]?.prefix(2), [150.1, 150.2])
        XCTAssertTrue(tables[0].columns["ALPHA_J2000"]?[2].isNaN ?? false)
        XCTAssertEqual(tables[0].columns["FLAGS"], [0, 3, 16])
        XCTAssertNil(tables[0].columns["FLUX_APER"], "a vector column is not a scalar")
        XCTAssertNil(tables[0].columns["ABSENT"])
        XCTAssertEqual(tables[0].keywords, ["IMWIDTH": 2048])
        XCTAssertEqual(tables[1].columns["ALPHA_J2000"], [10], "names match whatever their case")
    }

    func testNotFITSIsAnErrorNamingTheFile() {
        XCTAssertThrowsError(try FITSTableReader.tables(data: Data("hello".utf8), name: "bad.cat.fits", columns: ["X"])) {
            XCTAssertTrue("\($0)".hasPrefix("bad.cat.fits: "), "\($0)")
        }
    }
}
