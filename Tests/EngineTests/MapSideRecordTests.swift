import Foundation
import TestSupport
import XCTest
@testable import Engine

/// A map stage that also reports to the driver (`MapSideRecord`), over a source whose records are
/// made as each task launches (`dataset(plan:inputs:)`), run under the caller's job id.
final class MapSideRecordTests: XCTestCase {
    /// Hears each map task's records: the reports only, never the map status.
    final class Reports: JobListener, @unchecked Sendable {
        let seen = Locked<[Int: [Int]]>([:])
        func taskEnded(_ event: TaskEndEvent) {
            guard case .succeeded = event.outcome, event.attempt.jobID.hasPrefix("job-side.s0.") else { return }
            let reports = event.records.map { (try? JSONDecoder().decode(Int.self, from: $0)) ?? -1 }
            seen.mutate { $0[event.attempt.partition] = reports }
        }
    }

    func testReportsReachTheListenerAndKeyedRecordsTheShuffle() throws {
        let registry = shuffleRegistry()
        registry.register("test.words-reporting-lines", input: String.self,
                          output: MapSideRecord<String, Int, Int>.self) { lines, _ in
            [.report(lines.count)] + lines.flatMap { $0.split(separator: " ").map { .keyed(KeyValue(String($0), 1)) } }
        }
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let plan = try PartitionPlan(recordCount: corpus.count, partitioning: .count(4))
        let made = Locked(0)
        let grouped = context.dataset(plan: plan) { partition in
            made.mutate { $0 += 1 }
            return Array(corpus[plan.range(of: partition)])
        }
        .mapPartitions(named: "test.words-reporting-lines", as: MapSideRecord<String, Int, Int>.self)
        .groupByKey(try .hash(partitions: 3))
        let reports = Reports()
        let result = grouped.submit(options: JobOptions(listener: reports), jobID: "job-side").wait()
        XCTAssertEqual(result.status, .succeeded, "\(result)")
        XCTAssertEqual(result.jobID, "job-side")
        XCTAssertEqual(result.stages?.map(\.jobID), ["job-side.s0.1", "job-side.s1.1"])
        let pairs = try result.records(as: KeyValue<String, [Int]>.self)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value.count) }), corpusCounts)
        XCTAssertEqual(reports.seen.value, [0: [6], 1: [6], 2: [6], 3: [6]], "each map task's one report, no status")
        XCTAssertEqual(result.stages?.first?.shuffleRecords, corpus.count * 6, "reports are not shuffled")
        XCTAssertEqual(made.value, 4, "a partition's records are made when its task launches")
    }
}
