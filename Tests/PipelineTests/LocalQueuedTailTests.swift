import Engine
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// local[N]'s worker processes hold one task beyond the one they run (`sextant.local.queuedTasksPerWorker`),
/// and at a job's tail an idle worker takes the task still waiting behind a straggler: real `sextant worker`s.
final class LocalQueuedTailTests: XCTestCase {
    private final class Ends: JobListener, @unchecked Sendable {
        let events = Locked<[TaskEndEvent]>([])
        func taskEnded(_ event: TaskEndEvent) { events.mutate { $0.append(event) } }
    }

    func testTheTaskWaitingBehindAStragglerMovesToTheIdleWorker() throws {
        var environment = ProcessInfo.processInfo.environment
        environment[TestOperators.environmentVariable] = "1"
        let launcher = WorkerProcessBackend.Launcher(executable: TestSupport.sextantBinary, arguments: ["worker"],
                                                     environment: environment)
        let backend = try WorkerProcessBackend(slots: 2, queuedTasksPerWorker: 1, launcher: launcher)
        let scheduler = TaskScheduler(backend: backend)
        defer { scheduler.stop() }
        // Partition 0 runs on the first worker with partition 2 queued behind it; the second worker
        // works through the rest long before the straggler ends, then takes partition 2.
        let parameters = SleepOperator.Parameters(milliseconds: 10, perInput: ["r0": 3_000])
        let step = OperatorStep(name: SleepOperator.name, parameters: try JSONEncoder().encode(parameters))
        let ends = Ends()
        let job = JobDescription(partitionCount: 8, inputs: { ["r\($0)"] }, steps: [step], options: JobOptions(listener: ends))
        let result = scheduler.run(job)

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertTrue(result.partitions.allSatisfy { $0.failureReasons.isEmpty && $0.lostAttempts == 0 })
        let cancelled = ends.events.value.filter { $0.outcome == .cancelled }
        XCTAssertEqual(cancelled.map(\.attempt.partition), [2], "the waiting task was taken back from the busy worker")
        let winners = ends.events.value.filter { if case .succeeded = $0.outcome { return true } else { return false } }
        let straggler = try XCTUnwrap(winners.first { $0.attempt.partition == 0 }?.executor)
        XCTAssertNotEqual(winners.first { $0.attempt.partition == 2 }?.executor, straggler, "it ran on the idle worker")
    }
}
