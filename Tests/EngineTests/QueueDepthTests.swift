import XCTest
@testable import Engine

/// `QueueDepth`: an executor's queue is filled with about `sextant.scheduler.queuedWork` of work per core.
final class QueueDepthTests: XCTestCase {
    func testUntilATaskIsTimedEachCoreGetsOneQueuedTask() {
        let depth = QueueDepth(coveredSeconds: 0.002)
        XCTAssertNil(depth.meanSeconds)
        XCTAssertEqual(depth.queuedTasks(advertised: 32, cores: 4), 4)
        XCTAssertEqual(depth.queuedTasks(advertised: 0, cores: 4), 0, "no queue: none")
    }

    func testShortTasksFillMoreOfTheQueueAndLongOnesOneACore() {
        var depth = QueueDepth(coveredSeconds: 0.002)
        depth.record(seconds: 0.0005)
        XCTAssertEqual(depth.perCore(limit: 8), 4, "2 ms of 0.5 ms tasks")
        XCTAssertEqual(depth.queuedTasks(advertised: 32, cores: 4), 16)
        var long = QueueDepth(coveredSeconds: 0.002)
        long.record(seconds: 0.06)
        XCTAssertEqual(long.queuedTasks(advertised: 32, cores: 4), 4, "60 ms tasks: one a core, as before")
        var tiny = QueueDepth(coveredSeconds: 0.002)
        tiny.record(seconds: 0.00002)
        XCTAssertEqual(tiny.queuedTasks(advertised: 32, cores: 4), 32, "never beyond what the executor offers")
        tiny.record(seconds: 0)
        XCTAssertEqual(tiny.perCore(limit: 8), 8)
    }

    func testTheMeanFollowsTheTasksAsTheyChange() {
        var depth = QueueDepth(coveredSeconds: 0.002)
        depth.record(seconds: 0.00001)
        XCTAssertEqual(depth.perCore(limit: 8), 8)
        for _ in 0..<100 { depth.record(seconds: 0.05) }
        XCTAssertEqual(depth.perCore(limit: 8), 1, "tasks grew long: back to one a core")
        depth.record(seconds: .nan)
        XCTAssertTrue(depth.meanSeconds!.isFinite, "a bad duration does not poison the mean")
    }

    func testAQueueNoLongerThanTheCoresAndWholeQueuesAreTakenAsOffered() {
        var depth = QueueDepth(coveredSeconds: 0.002)
        depth.record(seconds: 1)
        XCTAssertEqual(depth.queuedTasks(advertised: 1, cores: 1), 1, "local mode's one task a worker stays")
        var whole = QueueDepth(coveredSeconds: nil)
        XCTAssertEqual(whole.queuedTasks(advertised: 12, cores: 4), 12)
        whole.record(seconds: 10)
        XCTAssertEqual(whole.queuedTasks(advertised: 12, cores: 4), 12, "queuedWork 0: the whole queue, whatever tasks take")
    }
}
