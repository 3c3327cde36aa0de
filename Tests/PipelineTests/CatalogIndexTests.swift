@testable import Pipeline
import XCTest

/// The index from output names to inputs that a resume's listing and earlier manifest go through
/// (twice an input): every name finds exactly the inputs that have it.
final class CatalogIndexTests: XCTestCase {
    func testEveryNameFindsItsInputsAndNoOthers() {
        // Input i has "d<i/1000>/f<i>.cat.fits"; every 7th also "shared<i/7>.csv", which input
        // i+1 has too when it exists (a name two inputs share, as colliding stems would).
        let count = 20_000
        let names: @Sendable (Int) -> [String] = { index in
            var outputs = ["d\(index / 1000)/f\(index).cat.fits"]
            if index % 7 == 0 { outputs.append("shared\(index / 7).csv") }
            if index % 7 == 1 { outputs.append("shared\((index - 1) / 7).csv") }
            return outputs
        }
        let catalog = CatalogIndex(count: count, names: names)
        for index in 0..<count {
            XCTAssertEqual(catalog.inputs(named: "d\(index / 1000)/f\(index).cat.fits"), [index])
            if index % 7 == 0 {
                XCTAssertEqual(catalog.inputs(named: "shared\(index / 7).csv"), index + 1 < count ? [index, index + 1] : [index])
            }
        }
        XCTAssertEqual(catalog.inputs(named: "d0/f\(count).cat.fits"), [])
        XCTAssertEqual(catalog.inputs(named: ""), [])
        var seen: [Int] = []
        catalog.forEachInput(named: "shared3.csv") { seen.append($0) }
        XCTAssertEqual(seen, [21, 22])
    }

    func testSmallAndEmptyIndexes() {
        XCTAssertEqual(CatalogIndex(count: 0, names: { _ in [] }).inputs(named: "x"), [])
        let one = CatalogIndex(count: 1, names: { _ in ["only.csv"] })
        XCTAssertEqual(one.inputs(named: "only.csv"), [0])
        XCTAssertEqual(one.inputs(named: "other.csv"), [])
        // One input, two outputs of the same name: found once.
        XCTAssertEqual(CatalogIndex(count: 1, names: { _ in ["a.csv", "a.csv"] }).inputs(named: "a.csv"), [0])
    }
}
