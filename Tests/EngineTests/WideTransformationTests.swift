import Foundation
import TestSupport
import XCTest
@testable import Engine

final class WideTransformationTests: XCTestCase {
    func testWordCountWithReduceByKeyMatchesPlainSwiftAndEachKeyIsInItsHashPartition() throws {
        let context = EngineContext.local(registry: shuffleRegistry(), settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let counts = try context.dataset(corpus, partitioning: .count(6))
            .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 3))
        XCTAssertEqual(counts.partitionCount, 3)
        XCTAssertTrue(counts.lineage.contains("test.words -> test.sum-counts => shuffle"), counts.lineage)

        let result = counts.save()
        XCTAssertEqual(result.status, .succeeded)
        let pairs = try result.records(as: KeyValue<String, Int>.self)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) }), corpusCounts)
        XCTAssertEqual(pairs.count, corpusCounts.count, "one record per word")
        let partitioner = try Partitioner.hash(partitions: 3)
        for partition in result.partitions {
            let keys = try partition.records.map { try JSONDecoder().decode(KeyValue<String, Int>.self, from: $0).key }
            XCTAssertEqual(keys, keys.sorted { Data("\"\($0)\"".utf8).lexicographicallyPrecedes(Data("\"\($1)\"".utf8)) })
            for key in keys {
                XCTAssertEqual(try partitioner.partition(ofKey: JSONEncoder().encode(key)), partition.partition)
            }
        }
        // Two stages, each run once; the map side combined: at most one record per word and map partition.
        let stages = try XCTUnwrap(result.stages)
        XCTAssertEqual(stages.map(\.stage), [0, 1])
        XCTAssertEqual(stages[0].computed, Array(0..<6))
        XCTAssertEqual(stages[1].kind, .result)
        XCTAssertLessThanOrEqual(stages[0].shuffleRecords, 6 * 13)
        XCTAssertLessThan(stages[0].shuffleRecords, corpus.count * 6, "combined before the shuffle")
        XCTAssertGreaterThan(result.shuffleBytes, 0)
        XCTAssertEqual(try counts.count(), corpusCounts.count)
    }

    func testTwoShufflesGroupByKeyAndRangePartitioning() throws {
        let context = EngineContext.local(registry: shuffleRegistry(), settings: settings { $0.localSlots = 3 })
        defer { context.stop() }
        let words = try context.dataset(corpus, partitioning: .count(5))
            .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
        // How many words occur n times, for each n: a shuffle by word, then one by count.
        let histogram = try words
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 4))
            .mapPartitions(named: "test.count-to-number", as: KeyValue<Int, Int>.self)
            .reduceByKey(SumByNumber.self, NoParameters(), partitioner: .range(bounds: [8, 11]))
        let result = histogram.save()
        XCTAssertEqual(result.status, .succeeded)
        var expected: [Int: Int] = [:]
        for count in corpusCounts.values { expected[count, default: 0] += 1 }
        let pairs = try result.records(as: KeyValue<Int, Int>.self)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) }), expected)
        XCTAssertEqual(pairs.map(\.key), expected.keys.sorted(), "range partitions in key order, sorted within")
        for partition in result.partitions {
            let keys = try partition.records.map { try JSONDecoder().decode(KeyValue<Int, Int>.self, from: $0).key }
            let range: ClosedRange<Int> = [Int.min...8, 9...11, 12...Int.max][partition.partition]
            XCTAssertTrue(keys.allSatisfy(range.contains), "partition \(partition.partition): \(keys)")
        }
        XCTAssertEqual(result.stages?.map(\.stage), [0, 1, 2], "three stages: two shuffles")

        let grouped = try words.groupByKey(.hash(partitions: 2)).collect()
        XCTAssertEqual(grouped.count, corpusCounts.count)
        for group in grouped {
            XCTAssertEqual(group.value, Array(repeating: 1, count: corpusCounts[group.key]!), group.key)
        }
        let moved = try words.partitionBy(.range(bounds: ["w3", "w7"])).save()
        XCTAssertEqual(moved.partitions.count, 3)
        let first = try moved.partitions[0].records.map { try JSONDecoder().decode(KeyValue<String, Int>.self, from: $0) }
        XCTAssertTrue(first.allSatisfy { $0.key <= "w3" })
        XCTAssertEqual(try moved.records(as: KeyValue<String, Int>.self).count, corpus.count * 6, "nothing combined")
    }

    func testTheSameJobGivesTheSameRecordsOnOneSlotAndOnFour() throws {
        func run(slots: Int) throws -> [KeyValue<Int, [Int]>] {
            let context = EngineContext.local(registry: shuffleRegistry(), settings: settings { $0.localSlots = slots })
            defer { context.stop() }
            return try context.dataset(corpus, partitioning: .count(8))
                .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
                .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 5))
                .mapPartitions(named: "test.count-to-number", as: KeyValue<Int, Int>.self)
                .groupByKey(.hash(partitions: 3))
                .collect()
        }
        let one = try run(slots: 1)
        let four = try run(slots: 4)
        XCTAssertFalse(one.isEmpty)
        XCTAssertEqual(one, four)
    }

    func testPartitionersAreStableAndCheckTheirInput() throws {
        // FNV-1a of the JSON bytes (checked against an independent Python computation): fixed numbers, whatever process computes them.
        XCTAssertEqual(fnv1a(Data("\"a\"".utf8)), 0xd427_2417_d7c7_7eea)
        let hash = try Partitioner.hash(partitions: 7)
        XCTAssertEqual(try hash.partition(ofKey: Data("\"a\"".utf8)), Int(UInt64(0xd427_2417_d7c7_7eea) % 7), "1, by hand")
        XCTAssertThrowsError(try Partitioner.hash(partitions: 0))
        XCTAssertThrowsError(try Partitioner.range(bounds: [3, 1]))
        XCTAssertThrowsError(try Partitioner.range(bounds: [Version(major: 1), Version(major: 2)]))
        let range = try Partitioner.range(bounds: [1.5, 10])
        XCTAssertEqual(range.partitions, 3)
        XCTAssertEqual(try [-4, 1.5, 2, 10, 11].map { try range.partition(ofKey: JSONEncoder().encode($0)) }, [0, 0, 1, 1, 2])
        XCTAssertThrowsError(try range.partition(ofKey: Data("\"x\"".utf8))) { error in
            XCTAssertTrue("\(error)".contains("is not a number"), "\(error)")
        }
    }

    func testAUserDefinedPartitionerPlacesKeysAndIsCheckedForRange() throws {
        let registry = shuffleRegistry()
        registry.register(partitioner: ByResidue.self)
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let numbers = try context.dataset(corpus, partitioning: .count(4))
            .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 2))
            .mapPartitions(named: "test.count-to-number", as: KeyValue<Int, Int>.self)
        let placed = try numbers.partitionBy(.custom(ByResidue.self, .init(offset: 1), partitions: 3)).save()
        XCTAssertEqual(placed.status, .succeeded)
        for partition in placed.partitions {
            let keys = try partition.records.map { try JSONDecoder().decode(KeyValue<Int, Int>.self, from: $0).key }
            XCTAssertFalse(keys.isEmpty)
            XCTAssertTrue(keys.allSatisfy { ($0 + 1) % 3 == partition.partition }, "partition \(partition.partition): \(keys)")
        }
        XCTAssertEqual(try placed.records(as: KeyValue<Int, Int>.self).count, corpusCounts.count)

        // A partitioner no process registered, then one that answers out of range: the job fails saying so.
        let unknown = try numbers.partitionBy(.custom(Unregistered.self, NoParameters(), partitions: 2)).save()
        XCTAssertEqual(unknown.status, .failed)
        XCTAssertTrue(unknown.failureReason?.contains("unknown partitioner 'test.unregistered'") == true,
                      unknown.failureReason ?? "")
        registry.register(partitioner: Unregistered.self)
        let outOfRange = try numbers.partitionBy(.custom(Unregistered.self, NoParameters(), partitions: 2)).save()
        XCTAssertTrue(outOfRange.failureReason?.contains("in partition 7, outside 0..<2") == true,
                      outOfRange.failureReason ?? "")
    }

    func testAFailingMapTaskFailsTheJobWithTheReasonAndAnEmptyInputFinishes() throws {
        let context = EngineContext.local(registry: shuffleRegistry(), settings: settings {
            $0.localSlots = 2
            $0.maxFailures = 2
        })
        defer { context.stop() }
        let data = try context.dataset(["a", "b", "poison", "c"])
            .mapPartitions(named: "test.fails-on-poison", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 2))
        let result = data.save()
        XCTAssertEqual(result.status, .failed)
        let reason = result.failureReason ?? ""
        XCTAssertTrue(reason.contains("stage 0 (map side of shuffle-"), reason)
        XCTAssertTrue(reason.contains("partition 2 failed"), reason)
        XCTAssertTrue(reason.contains("cannot parse line 'poison'"), reason)
        XCTAssertEqual(result.stages?.count, 1, "the reduce stage never ran")
        XCTAssertThrowsError(try data.collect())

        // Described as a plain job, the read has no map locations: it fails, never reads nothing.
        let direct = context.scheduler.run(try context.dataset(["a b"]).mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .partitionBy(.hash(partitions: 1)).job())
        XCTAssertTrue(direct.partitions[0].failureReasons.last?.contains("not job()") == true, "\(direct.partitions[0])")

        let empty = try context.dataset([]).mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 2))
        XCTAssertEqual(try empty.collect().count, 0)
    }

    func testASecondActionReusesTheMapOutputs() throws {
        let calls = Locked<[Int: Int]>([:])
        let context = EngineContext.local(registry: shuffleRegistry(calls: calls))
        defer { context.stop() }
        let counts = try context.dataset(corpus, partitioning: .count(4))
            .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 2))
        XCTAssertEqual(try counts.count(), corpusCounts.count)
        let again = counts.save()
        XCTAssertEqual(again.status, .succeeded)
        XCTAssertEqual(again.stages?.map(\.kind), [.result], "the map stage was skipped: its outputs exist")
        XCTAssertEqual(calls.value, [0: 1, 1: 1, 2: 1, 3: 1])
    }
}

/// A key that is Comparable but neither a number nor a string: range partitioning refuses it.
private struct Version: Codable, Comparable {
    var major: Int
    static func < (a: Version, b: Version) -> Bool { a.major < b.major }
}

final class DAGCancellationTests: XCTestCase {
    func testCancellingAJobWithShufflesStopsItsRunningStage() throws {
        let registry = shuffleRegistry()
        registry.register("test.block", input: String.self, output: KeyValue<String, Int>.self) { lines, context in
            while !context.isCancelled { usleep(1000) }
            try context.checkCancellation()
            return lines.map { KeyValue($0, 1) }
        }
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let started = DispatchSemaphore(value: 0)
        context.scheduler.addListener(StageStartHook(stageTag: ".s0.1") { started.signal() })
        let handle = try context.dataset(["a", "b", "c"])
            .mapPartitions(named: "test.block", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 2))
            .submit()
        XCTAssertEqual(started.wait(timeout: .now() + 30), .success)
        handle.cancel()
        let result = handle.wait()
        XCTAssertEqual(result.status, .cancelled)
        XCTAssertTrue(result.partitions.allSatisfy { $0.status == .cancelled })
    }
}

/// Keys by (key + offset) mod the partition count.
private struct ByResidue: KeyPartitioner {
    struct Parameters: Codable { var offset: Int }
    typealias Key = Int
    static let name = "test.by-residue"
    let offset: Int, partitions: Int
    init(parameters: Parameters, partitions: Int) {
        offset = parameters.offset
        self.partitions = partitions
    }
    func partition(of key: Int) -> Int { (key + offset) % partitions }
}

/// Registered late in the test; puts every key out of range.
private struct Unregistered: KeyPartitioner {
    typealias Parameters = NoParameters
    typealias Key = Int
    static let name = "test.unregistered"
    init(parameters: NoParameters, partitions: Int) {}
    func partition(of key: Int) -> Int { 7 }
}
