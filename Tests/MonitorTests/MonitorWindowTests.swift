import Engine
import Foundation
@testable import Monitor
import XCTest

/// A survey-sized job's monitor state is aggregates plus bounded windows: what it keeps does not
/// grow with the tasks that ended, and the counts stay exact.
final class MonitorWindowTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    private func event(_ kind: MonitorEvent.Kind, partition: Int, attempt: Int = 0, duration: Double? = nil,
                       outcome: String? = nil) -> MonitorEvent {
        var event = MonitorEvent(kind, job: "big", time: t0.addingTimeInterval(Double(partition)))
        event.partition = partition
        event.attempt = attempt
        event.executor = "e\(partition % 2)"
        event.duration = duration
        event.outcome = outcome
        return event
    }

    func testEndedTasksAreAWindowAndTheSlowestAndCountsStayExact() {
        var state = JobState(id: "big", taskWindow: 5, failureWindow: 3)
        state.apply(.jobStart("big", inputs: 100, output: "/out", time: t0))
        for partition in 0..<100 {
            state.apply(event(.taskStart, partition: partition))
            // Partition 37 is the slowest; 90 and 61 next.
            let duration = partition == 37 ? 50 : partition == 90 ? 40 : partition == 61 ? 30 : Double(partition % 7)
            state.apply(event(.taskEnd, partition: partition, duration: duration, outcome: partition % 10 == 3 ? "failed" : "succeeded"))
        }
        state.apply(event(.taskStart, partition: 100))
        XCTAssertEqual(state.tasksEnded, 100)
        XCTAssertEqual(state.tasksRunning, 1)
        XCTAssertEqual(state.tasksKept, 6, "the running attempt and the latest five ended")
        XCTAssertEqual(state.taskList.map(\.partition), [95, 96, 97, 98, 99, 100])
        XCTAssertEqual(state.slowestTasks(3).map(\.partition), [37, 90, 61])
        XCTAssertEqual(state.executors["e1"]?.tasksFailed, 10, "partitions 3, 13, ..., 93")
        XCTAssertEqual(state.executors["e0"]?.tasksSucceeded, 50)
    }

    func testAnInputReportedTwiceCountsOnceAndFailuresAreAWindow() {
        var state = JobState(id: "big", taskWindow: 5, failureWindow: 3)
        state.apply(.jobStart("big", inputs: 10, output: "/out", time: t0))
        for index in 0..<6 {
            state.apply(.input("big", InputRecord(input: "/in/\(index).fits", outcome: .committed, rows: 10, bytes: 100)))
        }
        // Input 2's catalog was lost and recomputed: reported again, with other figures.
        state.apply(.input("big", InputRecord(input: "/in/2.fits", outcome: .committed, rows: 12, bytes: 120)))
        for index in 6..<10 {
            state.apply(.input("big", InputRecord(input: "/in/\(index).fits", outcome: .failed, error: "bad \(index)")))
        }
        XCTAssertEqual(state.inputsDone, 6)
        XCTAssertEqual(state.sources, 62)
        XCTAssertEqual(state.bytesWritten, 620)
        XCTAssertEqual(state.inputsFailed, 4, "every failure counted")
        XCTAssertEqual(state.failures.map(\.input), ["/in/6.fits", "/in/7.fits", "/in/8.fits"], "the first three kept")
    }

    func testTheTasksAPIIsPaginatedAndRefusesBadPages() throws {
        let monitor = try Monitor(settings: MonitorSettings())
        monitor.record(.jobStart("big", inputs: 30, output: "/out", time: t0))
        for partition in 0..<30 {
            monitor.record(event(.taskStart, partition: partition))
            monitor.record(event(.taskEnd, partition: partition, duration: 1, outcome: "succeeded"))
        }
        let router = Router(monitor: monitor)
        func page(_ query: String) throws -> [TaskRecord] {
            let response = router.respond(to: WebRequest(method: "GET", uri: "/api/v1/jobs/big/tasks" + query))
            XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom { _ in Date() }
            return try decoder.decode([TaskRecord].self, from: response.body)
        }
        XCTAssertEqual(try page("").count, 30)
        XCTAssertEqual(try page("?offset=10&limit=5").map(\.partition), [10, 11, 12, 13, 14])
        XCTAssertEqual(try page("?offset=28&limit=5").map(\.partition), [28, 29])
        XCTAssertEqual(try page("?offset=40").count, 0)
        let bad = router.respond(to: WebRequest(method: "GET", uri: "/api/v1/jobs/big/tasks?limit=-1"))
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue(String(decoding: bad.body, as: UTF8.self).contains("limit must be a whole number"))
    }
}
