import XCTest
@testable import Settings

final class ValueParsersTests: XCTestCase {
    func testSizesAreSparksPowersOf1024() {
        XCTAssertEqual(ValueParsers.size("256m"), 256 << 20)
        XCTAssertEqual(ValueParsers.size("1g"), 1 << 30)
        XCTAssertEqual(ValueParsers.size("512k"), 512 << 10)
        XCTAssertEqual(ValueParsers.size("16MB"), 16 << 20)
        XCTAssertEqual(ValueParsers.size("16MiB"), 16 << 20)
        XCTAssertEqual(ValueParsers.size("1.5k"), 1536)
        XCTAssertEqual(ValueParsers.size(" 100 "), 100)
        XCTAssertEqual(ValueParsers.size("100b"), 100)
        for bad in ["", "m", "-1m", "ten", "5x", "1e400"] { XCTAssertNil(ValueParsers.size(bad), bad) }
    }

    func testDurationsTakeEveryUnitAndBareSeconds() {
        XCTAssertEqual(ValueParsers.duration("5min"), 300)
        XCTAssertEqual(ValueParsers.duration("5m"), 300)
        XCTAssertEqual(ValueParsers.duration("100ms"), 0.1)
        XCTAssertEqual(ValueParsers.duration("2s"), 2)
        XCTAssertEqual(ValueParsers.duration("1h"), 3600)
        XCTAssertEqual(ValueParsers.duration("1d"), 86400)
        XCTAssertEqual(ValueParsers.duration("0.1"), 0.1)
        XCTAssertEqual(ValueParsers.duration("30"), 30)
        for bad in ["", "s", "-2s", "10 parsecs", "forever"] { XCTAssertNil(ValueParsers.duration(bad), bad) }
    }

    func testBooleans() {
        for yes in ["true", "TRUE", "yes", "on", "1", " true "] { XCTAssertEqual(ValueParsers.bool(yes), true, yes) }
        for no in ["false", "No", "off", "0"] { XCTAssertEqual(ValueParsers.bool(no), false, no) }
        XCTAssertNil(ValueParsers.bool("maybe"))
    }
}
