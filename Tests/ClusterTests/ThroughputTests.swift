import Engine
import Foundation
import XCTest
@testable import Cluster

/// Round trips of no-op tasks, master -> executor -> master, on loopback.
/// Prints the rate; SEXTANT_THROUGHPUT_TASKS sets the task count (default 3000).
final class ThroughputTests: XCTestCase {
    func testNoOpTaskRoundTripRate() throws {
        let count = Int(ProcessInfo.processInfo.environment["SEXTANT_THROUGHPUT_TASKS"] ?? "") ?? 3000
        for (executors, cores) in [(1, 1), (1, 4), (2, 4)] {
            let fixture = ClusterFixture()
            defer { fixture.tearDown() }
            try fixture.startMaster()
            for _ in 0..<executors {
                fixture.startExecutor(cores: cores) { spec, executor in
                    TaskResult(id: spec.id, executor: executor, outcome: .success(records: []), duration: 0)
                }
            }
            XCTAssertTrue(fixture.waitForExecutors(executors))
            let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: TestDriver.tasks(count))
            let start = Date()
            driver.start()
            XCTAssertTrue(driver.waitUntilDone(timeout: 60))
            let seconds = Date().timeIntervalSince(start)
            driver.backend.stop()
            XCTAssertEqual(driver.snapshot { $0.results.count }, count)
            let rate = Double(count) / seconds
            print("cluster round trip: \(count) no-op tasks, \(executors) executor(s) x \(cores) slot(s): "
                  + String(format: "%.0f tasks/s (%.2f s)", rate, seconds))
            // Far below what loopback allows; catches Nagle-style stalls (~40 ms per round trip).
            XCTAssertGreaterThan(rate, 200)
        }
    }
}
