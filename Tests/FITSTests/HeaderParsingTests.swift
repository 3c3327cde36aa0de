import XCTest
@testable import FITS

/// Header cards parsed as CFITSIO splits them, with the blanks FITS says are not significant
/// dropped (byte-wise trimming; these pin what Foundation's trimming did before).
final class HeaderParsingTests: XCTestCase {
    private func card(_ text: String) -> String { text.padding(toLength: 80, withPad: " ", startingAt: 0) }

    func testCommentaryCardsKeepLeadingBlanksAndLoseTrailingOnes() {
        let header = FITSHeader(headerText: card("HISTORY   reduced   twice") + card("COMMENT") + card("END"))
        XCTAssertEqual(header.cards.map(\.keyword), ["HISTORY", "COMMENT"])
        XCTAssertEqual(header.cards.map(\.comment), ["  reduced   twice", ""])
        XCTAssertEqual(header.records.count, 2)
    }

    func testValuesAreTypedWithoutTheirBlanks() {
        let header = FITSHeader(headerText: card("EXPTIME =               53.907 / seconds")
                                + card("GAIN    =              1.5D3")
                                + card("SMALL   =               2.5d-1")
                                + card("OBSERVER= 'O''Hara  '")
                                + card("FILTER  = '  r     '")
                                + card("NCOMBINE=                  +12")
                                + card("SIMPLE  =                    T")
                                + card("NOVALUE =                     "))
        XCTAssertEqual(header["EXPTIME"], .double(53.907))
        XCTAssertEqual(header["GAIN"], .double(1500))
        XCTAssertEqual(header["SMALL"], .double(0.25))
        XCTAssertEqual(header["OBSERVER"], .string("O'Hara"))
        XCTAssertEqual(header["FILTER"], .string("  r"))
        XCTAssertEqual(header["NCOMBINE"], .int(12))
        XCTAssertEqual(header["SIMPLE"], .bool(true))
        XCTAssertNil(header["NOVALUE"])
        XCTAssertEqual(header.card("EXPTIME")?.comment, "seconds")
    }

    func testLookUpIgnoresCaseAndTheFirstCardWins() {
        let header = FITSHeader(cards: [FITSCard("exptime", .int(1)), FITSCard("EXPTIME", .int(2)), FITSCard("EXPTIMES", .int(3))])
        XCTAssertEqual(header["EXPTIME"], .int(1))
        XCTAssertEqual(header["ExpTime"], .int(1))
        XCTAssertEqual(header["EXPTIMES"], .int(3))
        XCTAssertNil(header["EXPTIM"])
    }

    func testBlankTrimmingIsByteWise() {
        XCTAssertEqual("  a b \t ".trimmingBlanks(), "a b")
        XCTAssertEqual("   ".trimmingBlanks(), "")
        XCTAssertEqual("x".trimmingBlanks(), "x")
        XCTAssertEqual("é  ".trimmingTrailingSpaces(), "é")
        XCTAssertEqual("  ".trimmingTrailingSpaces(), "")
    }
}
