import XCTest
@testable import Engine

final class DatasetTests: XCTestCase {
    func testPartitioningByCountBySizeAndPerRecord() throws {
        let records = (0..<10).map { String(repeating: "x", count: $0 + 1) }
        let perRecord = try PartitionPlan(records: records, partitioning: .perRecord)
        XCTAssertEqual(perRecord.count, 10)
        XCTAssertEqual(perRecord.range(of: 7), 7..<8)

        let byCount = try PartitionPlan(records: records, partitioning: .count(3))
        let ranges = (0..<byCount.count).map(byCount.range(of:))
        XCTAssertEqual(ranges.map(\.count), [3, 3, 4])
        XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<10), "every record exactly once, in order")
        XCTAssertEqual(try PartitionPlan(records: ["a", "b"], partitioning: .count(5)).count, 2, "no empty partitions")

        // Sizes 1...10 grouped under 10 bytes: [1,2,3,4] [5] [6] [7] [8] [9] [10]
        let bySize = try PartitionPlan(records: records, partitioning: .bytes(10, size: { Int64($0.count) }))
        XCTAssertEqual((0..<bySize.count).map { bySize.range(of: $0).count }, [4, 1, 1, 1, 1, 1, 1])
        // A record bigger than the limit gets its own partition.
        let oversized = try PartitionPlan(records: ["a", String(repeating: "b", count: 50), "c"],
                                          partitioning: .bytes(10, size: { Int64($0.count) }))
        XCTAssertEqual((0..<oversized.count).map { oversized.range(of: $0) }, [0..<1, 1..<2, 2..<3])

        XCTAssertThrowsError(try PartitionPlan(records: records, partitioning: .count(0)))
        XCTAssertEqual(try PartitionPlan(records: [], partitioning: .perRecord).count, 0)
    }

    func testTransformationsAndActionsMatchPlainSwift() throws {
        let registry = testRegistry()
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let numbers = (1...25).map(String.init)
        let evensTimesTen = try context.dataset(numbers, partitioning: .count(4))
            .map(ParseInt.self, NoParameters())
            .filter(KeepEven.self, NoParameters())
            .flatMap(Repeat.self, .init(times: 2))
            .mapPartitions(Scale.self, .init(factor: 10))
        XCTAssertEqual(evensTimesTen.partitionCount, 4)
        XCTAssertEqual(evensTimesTen.lineage,
                       "source(25 records, 4 partitions) -> test.parse-int -> test.keep-even -> test.repeat -> test.scale")

        let expected = (1...25).filter { $0 % 2 == 0 }.flatMap { [$0 * 10, $0 * 10] }
        XCTAssertEqual(try evensTimesTen.collect(), expected)
        XCTAssertEqual(try evensTimesTen.count(), expected.count)

        let saved = evensTimesTen.save()
        XCTAssertEqual(saved.status, .succeeded)
        XCTAssertEqual(saved.partitions.map(\.attempts), [1, 1, 1, 1])
        XCTAssertEqual(try saved.records(as: Int.self), expected)
    }

    func testAnEmptyDatasetFinishesAtOnce() throws {
        let context = EngineContext.local(registry: testRegistry())
        defer { context.stop() }
        XCTAssertEqual(try context.dataset([]).count(), 0)
    }

    func testJobsCanRunOneAfterAnotherAndSideBySide() throws {
        let context = EngineContext.local(registry: testRegistry(), settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let a = try context.dataset((1...30).map(String.init)).map(ParseInt.self, NoParameters())
        let b = try a.map(Scale.self, .init(factor: -1))
        let handles = [a.submit(), b.submit()]
        let results = handles.map { $0.wait() }
        XCTAssertEqual(try results[0].records(as: Int.self), Array(1...30))
        XCTAssertEqual(try results[1].records(as: Int.self), (1...30).map { -$0 })
        XCTAssertEqual(try a.count(), 30)
    }

    /// Planning a million inputs must be cheap: indices, not copies. Prints the real figures.
    func testPlanningAMillionInputsIsCheap() throws {
        let names = (0..<1_000_000).map { "s3://survey/frames/frame-\($0).fits" }
        let context = EngineContext(backend: ManualBackend(executors: []), registry: OperatorRegistry())
        let rssBefore = residentBytes()
        let start = Date()
        let perRecord = try context.dataset(names).map(ParseInt.self, NoParameters())
        let job = perRecord.job()
        let manager = TaskSetManager(job: job, settings: EngineSettings())
        let byCount = try context.dataset(names, partitioning: .count(1000))
        let bySize = try context.dataset(names, partitioning: .bytes(64 << 20, size: { _ in 30 << 20 }))
        let seconds = Date().timeIntervalSince(start)
        let megabytes = Double(residentBytes() - rssBefore) / 1e6
        print(String(format: "planning 10^6 inputs: %.3f s, %.1f MB more resident", seconds, megabytes))

        XCTAssertEqual(manager.partitionCount, 1_000_000)
        XCTAssertEqual(job.inputs(999_999), ["s3://survey/frames/frame-999999.fits"])
        XCTAssertEqual(byCount.partitionCount, 1000)
        XCTAssertEqual(byCount.inputs(of: 999).count, 1000)
        XCTAssertEqual(bySize.partitionCount, 500_000)
        XCTAssertLessThan(seconds, 10, "generous bound for a loaded debug build; the target is < 2 s")
        XCTAssertLessThan(megabytes, 500)
    }
}

/// Resident set size of this process, from /proc (Linux); 0 elsewhere.
func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
