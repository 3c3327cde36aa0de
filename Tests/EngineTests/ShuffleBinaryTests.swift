import Foundation
import TestSupport
import XCTest
@testable import Engine

final class ShuffleBinaryTests: XCTestCase {
    func testValuesRoundTripExactlyAndBadBytesAreRefused() throws {
        for value: Int64 in [0, 1, -1, 63, -64, 64, 300, -300, .max, .min] {
            XCTAssertEqual(try Int64(shuffleBinary: value.shuffleBinary), value)
        }
        XCTAssertEqual(Int64(5).shuffleBinary.count, 1, "small integers are one byte")
        for value in [0.0, -0.0, 1e-300, -2.5, .infinity, .greatestFiniteMagnitude, 0.1 + 0.2] {
            XCTAssertEqual(try Double(shuffleBinary: value.shuffleBinary).bitPattern, value.bitPattern)
        }
        XCTAssertTrue(try Double(shuffleBinary: Double.nan.shuffleBinary).isNaN)
        for text in ["", "3/1", "é ☃ \u{0}"] { XCTAssertEqual(try String(shuffleBinary: text.shuffleBinary), text) }
        let nested: [[String]] = [[], ["a"], ["b", "c"]]
        XCTAssertEqual(try [[String]](shuffleBinary: nested.shuffleBinary), nested)
        XCTAssertEqual(try [Bool](shuffleBinary: [true, false].shuffleBinary), [true, false])

        let bytes = "hello".shuffleBinary
        XCTAssertThrowsError(try String(shuffleBinary: bytes.dropLast())) { XCTAssertTrue("\($0)".contains("truncated")) }
        XCTAssertThrowsError(try String(shuffleBinary: bytes + Data([0]))) { XCTAssertTrue("\($0)".contains("after its end")) }
        XCTAssertThrowsError(try Int64(shuffleBinary: Data(repeating: 0xff, count: 11))) {
            XCTAssertTrue("\($0)".contains("malformed"))
        }
        XCTAssertThrowsError(try Int64(shuffleBinary: Data([0x80, 0x80]))) { XCTAssertTrue("\($0)".contains("truncated")) }
    }

    /// A value with no binary form, for comparison: the same numbers as JSON.
    struct Boxed: Codable, Hashable { var n: Int }

    /// groupByKey over Int values (binary) and over the same values boxed (JSON): the same groups,
    /// fewer shuffle bytes. A later action that reads the binary outputs as its result (JSON
    /// needed) makes them again as JSON and gives the same records.
    func testBinaryValuesGiveTheSameRecordsInFewerBytes() throws {
        let registry = shuffleRegistry()
        registry.register("test.group-size", input: KeyValue<String, [Int]>.self,
                          output: KeyValue<String, Int>.self) { groups, _ in groups.map { KeyValue($0.key, $0.value.count) } }
        registry.register("test.boxed-words", input: String.self, output: KeyValue<String, Boxed>.self) { lines, _ in
            lines.flatMap { $0.split(separator: " ").map { KeyValue(String($0), Boxed(n: 1)) } }
        }
        registry.register("test.boxed-group-size", input: KeyValue<String, [Boxed]>.self,
                          output: KeyValue<String, Int>.self) { groups, _ in groups.map { KeyValue($0.key, $0.value.count) } }
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let words = try context.dataset(corpus, partitioning: .count(4))
        let grouped = words.mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .groupByKey(try .hash(partitions: 3))
        let binary = grouped.mapPartitions(named: "test.group-size", as: KeyValue<String, Int>.self).save()
        let json = words.mapPartitions(named: "test.boxed-words", as: KeyValue<String, Boxed>.self)
            .groupByKey(try .hash(partitions: 3))
            .mapPartitions(named: "test.boxed-group-size", as: KeyValue<String, Int>.self).save()
        XCTAssertEqual(binary.status, .succeeded, "\(binary)")
        XCTAssertEqual(json.status, .succeeded, "\(json)")
        let counts = try binary.records(as: KeyValue<String, Int>.self)
        XCTAssertEqual(counts, try json.records(as: KeyValue<String, Int>.self))
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: counts.map { ($0.key, $0.value) }), corpusCounts)
        XCTAssertLessThan(Double(binary.shuffleBytes), 0.8 * Double(json.shuffleBytes),
                          "binary \(binary.shuffleBytes) bytes, JSON \(json.shuffleBytes)")

        // The grouped records themselves, as the job's output: JSON again, the same groups.
        let groups = try grouped.collect()
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: groups.map { ($0.key, $0.value.count) }), corpusCounts)
        XCTAssertTrue(groups.allSatisfy { $0.value.allSatisfy { $0 == 1 } })
    }
}
