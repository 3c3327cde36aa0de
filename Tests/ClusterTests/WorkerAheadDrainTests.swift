import Engine
import Foundation
import TestSupport
import XCTest
@testable import Cluster

/// An executor whose tasks run in worker processes (`sextant.executor.isolation`) holds one task ahead
/// in each worker; draining, it takes those back from the workers and hands them to the master unstarted.
final class WorkerAheadDrainTests: XCTestCase {
    private var fixture: ClusterFixture?
    private var runner: WorkerProcessRunner?

    override func tearDown() {
        fixture?.tearDown()
        runner?.stop()
    }

    func testADrainingExecutorTakesBackTheTasksItsWorkersHoldAheadAndHandsThemBack() throws {
        // `bench.sleep`: `sextant worker`'s test operator.
        let handler = SchedulingJobHandler(tasks: 12, steps: [
            OperatorStep(name: "bench.sleep", parameters: Data("{\"milliseconds\":700}".utf8)),
        ])
        let fixture = ClusterFixture(jobHandler: handler)
        self.fixture = fixture
        try fixture.startMaster()
        var environment = ProcessInfo.processInfo.environment
        environment["SEXTANT_TEST_OPERATORS"] = "1"
        let runner = try WorkerProcessRunner(slots: 2, launcher: .init(
            executable: TestSupport.sextantBinary, arguments: ["worker", "--executor"], environment: environment))
        self.runner = runner
        // Two slots and one queued each: two tasks run, two wait in the workers.
        let leaving = fixture.startExecutor(cores: 2, queuedPerSlot: 1, handler: runner)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let leavingID = try XCTUnwrap(leaving.executorID)
        let client = try fixture.client()
        defer { client.close() }
        _ = try client.submit(Data("{}".utf8), jobID: "ahead-drain")
        XCTAssertTrue(eventually(timeout: 10) { handler.events.starts(on: leavingID).count >= 2 })
        XCTAssertTrue(eventually(timeout: 5) { runner.waiting == 2 }, "the launches beyond the slots wait in the workers")
        fixture.startExecutor(cores: 2, work: upperCasing(delay: 0.05))

        let drainStarted = Date()
        XCTAssertTrue(leaving.drain(timeout: 10), "everything it kept finished in time")
        // The two running finish (< 0.7 s); the two ahead were not run (that would be 1.4 s).
        XCTAssertLessThan(Date().timeIntervalSince(drainStarted), 1.3)
        XCTAssertEqual(try client.wait(for: "ahead-drain", timeout: 30).status, .succeeded)
        let result = try XCTUnwrap(handler.result)
        XCTAssertEqual(result.partitions.filter { $0.status == .succeeded }.count, 12)
        XCTAssertEqual(result.partitions.map(\.lostAttempts).reduce(0, +), 0)
        XCTAssertEqual(result.partitions.flatMap(\.failureReasons), [])
        let handedBack = handler.events.ends(on: leavingID).filter {
            if case .lost(let reason) = $0 { return reason.contains("handed back unstarted") }
            return false
        }
        XCTAssertEqual(handedBack.count, 2, "\(handler.events.ends(on: leavingID))")
        XCTAssertEqual(runner.deaths, 0)
    }
}
