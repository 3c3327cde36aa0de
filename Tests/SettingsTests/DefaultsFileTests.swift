import XCTest
@testable import Settings

final class DefaultsFileTests: XCTestCase {
    func testValuesAreKeptVerbatim() throws {
        let c = try Configuration.parse("""
        # a comment line
          # an indented comment
        sextant.authenticate.secret   c2VjcmV0IHdpdGggcGFkZGluZw==
        sextant.s3.secretKey=abc#def=
        sextant.s3.endpoint = http://127.0.0.1:9000/a=b
        sextant.speculation true   # stragglers on big runs
        sextant.ui.host\t127.0.0.1\t
        sextant.s3.sessionToken "  spaced # and hashed \\" quote \\\\ "
        sextant.master.host ""

        """, source: "test.conf")
        XCTAssertEqual(c["sextant.authenticate.secret"], "c2VjcmV0IHdpdGggcGFkZGluZw==", "base64 padding kept")
        XCTAssertEqual(c["sextant.s3.secretKey"], "abc#def=", "a # inside a value is not a comment")
        XCTAssertEqual(c["sextant.s3.endpoint"], "http://127.0.0.1:9000/a=b")
        XCTAssertEqual(c["sextant.speculation"], "true", "a blank then # starts a comment")
        XCTAssertEqual(c["sextant.ui.host"], "127.0.0.1")
        XCTAssertEqual(c["sextant.s3.sessionToken"], "  spaced # and hashed \" quote \\ ", "quotes keep everything")
        XCTAssertEqual(c["sextant.master.host"], "")
        XCTAssertEqual(c.values.count, 7)
    }

    func testMalformedLinesNameTheFileAndLine() {
        for (text, line) in [("ok 1\njustakey\n", 2), ("k \"unterminated\n", 1), ("k \"closed\" trailing\n", 1)] {
            XCTAssertThrowsError(try Configuration.parse(text, source: "conf/x.conf")) { error in
                XCTAssertTrue("\(error)".hasPrefix("conf/x.conf:\(line): expected 'key value'"), "\(error)")
            }
        }
    }

    func testConfPairsKeepTheirValueVerbatim() throws {
        var c = Configuration()
        try c.apply(confPairs: ["sextant.s3.secretKey=ab==", " sextant.ui.host =a b # c", "k="])
        XCTAssertEqual(c["sextant.s3.secretKey"], "ab==")
        XCTAssertEqual(c["sextant.ui.host"], "a b # c")
        XCTAssertEqual(c["k"], "")
        XCTAssertThrowsError(try c.apply(confPairs: ["sextant.speculation"])) {
            XCTAssertEqual("\($0)", "--conf expects key=value, found 'sextant.speculation'")
        }
        XCTAssertThrowsError(try c.apply(confPairs: ["=x"]))
    }
}
