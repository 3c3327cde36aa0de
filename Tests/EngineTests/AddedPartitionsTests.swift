import TestSupport
import XCTest
@testable import Engine

/// A task's result may add partitions (`TaskContext.addPartitions`): the scheduler runs them like
/// its own, with retries, and reports where each came from.
final class AddedPartitionsTests: XCTestCase {
    /// "many:N" hands back N partitions "part1".."partN"; "part3" fails its first attempt.
    private func registry(calls: Locked<[String: Int]>) -> OperatorRegistry {
        let registry = OperatorRegistry()
        registry.register("test.hands-back", input: String.self, output: String.self) { inputs, context in
            try inputs.map { input in
                let call = calls.mutate { counts -> Int in
                    counts[input, default: 0] += 1
                    return counts[input]!
                }
                if input.hasPrefix("many:"), let count = Int(input.dropFirst(5)) {
                    context.addPartitions((1...count).map { ["part\($0)"] })
                    return "split"
                }
                if input == "part3" && call == 1 { throw TestFailure("part3 flaked") }
                return input.uppercased()
            }
        }
        return registry
    }

    func testHandedBackPartitionsRunAreRetriedAloneAndNameTheirOrigin() throws {
        let calls = Locked<[String: Int]>([:])
        let registry = registry(calls: calls)
        let context = EngineContext(backend: LocalBackend(registry: registry, slots: 2), registry: registry,
                                    settings: settings { $0.maxFailures = 3 })
        defer { context.stop() }
        var options = JobOptions()
        options.maxAddedPartitionsPerTask = 10
        let result = try context.dataset(["a", "many:4", "b"]).mapPartitions(named: "test.hands-back", as: String.self)
            .save(options: options)

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions.count, 3 + 4)
        XCTAssertEqual(result.partitions.map(\.status), Array(repeating: .succeeded, count: 7))
        XCTAssertEqual(result.partitions.map(\.origin), [nil, nil, nil, 1, 1, 1, 1])
        XCTAssertEqual(result.partitions.suffix(4).flatMap { decodeStrings($0.records) }, ["PART1", "PART2", "PART3", "PART4"])
        XCTAssertEqual(result.partitions.map(\.attempts), [1, 1, 1, 1, 1, 2, 1], "only part3 ran again")
        XCTAssertEqual(calls.value["many:4"], 1)
    }

    func testAJobThatTakesNoHandedBackWorkFailsTheAttemptThatOffersIt() throws {
        let calls = Locked<[String: Int]>([:])
        let registry = registry(calls: calls)
        let context = EngineContext(backend: LocalBackend(registry: registry, slots: 1), registry: registry,
                                    settings: settings { $0.maxFailures = 1 })
        defer { context.stop() }
        let result = try context.dataset(["a", "many:2"]).mapPartitions(named: "test.hands-back", as: String.self).save()

        XCTAssertEqual(result.partitions.count, 2, "nothing was added")
        XCTAssertEqual(result.partitions.map(\.status), [.succeeded, .failed])
        XCTAssertTrue(result.partitions[1].failureReasons.last?.contains("handed back 2 partitions; this job takes at most 0") == true,
                      "\(result.partitions[1].failureReasons)")
    }
}
