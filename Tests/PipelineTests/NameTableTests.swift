import Foundation
@testable import Pipeline
import XCTest

final class NameTableTests: XCTestCase {
    /// Grown from a tiny start, the table finds every repeat and nothing else, as a Set would.
    func testTheTableAgreesWithASetThroughGrowth() {
        let names = (0..<20_000).map { "/survey/run\($0 % 7_000 / 100)/frame-\($0 % 7_000).fits" } + ["", "é", "e\u{301}", "K", "\u{212A}"]
        var table = NameTable(capacity: 1)
        var kept: [String] = []
        var set = Set<String>()
        for name in names {
            let first = table.insert(name, index: Int32(kept.count), isSame: { kept[Int($0)] == name })
            XCTAssertEqual(first == nil, set.insert(name).inserted, name)
            if let first { XCTAssertEqual(kept[Int(first)], name) } else { kept.append(name) }
        }
        XCTAssertEqual(kept.count, 7_003, "names Swift calls equal are one name: é and e + U+0301, K and the Kelvin sign")
        XCTAssertEqual(NameTable.hash("abc"), NameTable.hash("abc"[...]), "a slice hashes as its string")
        XCTAssertNotEqual(NameTable.hash("abc"), NameTable.hash("abd"))
    }
}
