import Engine
import Foundation
import XCTest

/// Delay scheduling: an input on one executor's own disk runs there, unless that executor
/// launches nothing local for `sextant.locality.wait`.
final class LocalityTests: XCTestCase {
    private func run(wait: TimeInterval, localDelay: TimeInterval, otherDelay: TimeInterval,
                     partitions: Int = 20) throws -> (result: JobResult, seconds: Double) {
        let registry = OperatorRegistry()
        registry.register("test.identity", input: String.self, output: String.self) { inputs, _ in inputs }
        let backend = SimulatedBackend(registry: registry, executors: [
            .init(id: "a", delay: localDelay, localPaths: ["/diskA/"]),
            .init(id: "b", delay: otherDelay),
        ])
        let context = EngineContext(backend: backend, registry: registry, settings: settings { $0.localityWait = wait })
        defer { context.stop() }
        // Even partitions read a file on a's own disk; odd ones a shared file.
        let paths = (0..<partitions).map { $0 % 2 == 0 ? "/diskA/f\($0).fits" : "/shared/f\($0).fits" }
        let started = Date()
        let result = try context.dataset(paths).mapPartitions(named: "test.identity", as: String.self)
            .save(options: JobOptions(preferredLocations: { [paths[$0]] }))
        return (result, Date().timeIntervalSince(started))
    }

    func testLocalInputsRunOnTheirExecutorWhileItKeepsUp() throws {
        let (result, _) = try run(wait: 5, localDelay: 0.01, otherDelay: 0.01)
        XCTAssertEqual(result.status, .succeeded)
        for partition in result.partitions where partition.partition % 2 == 0 {
            XCTAssertEqual(partition.executor, "a", "partition \(partition.partition) reads /diskA")
        }
        XCTAssertTrue(result.partitions.contains { $0.partition % 2 == 1 && $0.executor == "b" },
                      "shared inputs still go anywhere")
    }

    func testAStalledExecutorsLocalInputsMoveElsewhereAfterTheWait() throws {
        let (result, _) = try run(wait: 0.05, localDelay: 0.4, otherDelay: 0.005)
        XCTAssertEqual(result.status, .succeeded)
        let moved = result.partitions.filter { $0.partition % 2 == 0 && $0.executor == "b" }.count
        XCTAssertGreaterThan(moved, 0, "b took /diskA inputs once a stopped launching them")
    }

    func testWithoutLocalPathsNothingWaits() throws {
        let registry = OperatorRegistry()
        registry.register("test.identity", input: String.self, output: String.self) { inputs, _ in inputs }
        let backend = SimulatedBackend(registry: registry, executors: [.init(id: "a"), .init(id: "b")])
        let context = EngineContext(backend: backend, registry: registry, settings: settings { $0.localityWait = 60 })
        defer { context.stop() }
        let result = try context.dataset((0..<10).map { "/diskA/f\($0)" }).mapPartitions(named: "test.identity", as: String.self)
            .save(options: JobOptions(preferredLocations: { ["/diskA/f\($0)"] }))
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(Set(result.partitions.compactMap(\.executor)), ["a", "b"])
    }

    /// Not an assertion on time (the machine may be loaded): prints the job time for several
    /// waits when the local executor is 3x slower, the figure the README quotes.
    func testMeasureLocalityWait() throws {
        for wait in [0, 0.1, 1.0] {
            let (result, seconds) = try run(wait: wait, localDelay: 0.06, otherDelay: 0.02, partitions: 40)
            XCTAssertEqual(result.status, .succeeded)
            let local = result.partitions.filter { $0.partition % 2 == 0 && $0.executor == "a" }.count
            print(String(format: "locality wait %.1f s: job %.2f s, %d of 20 local inputs ran locally", wait, seconds, local))
        }
    }
}
