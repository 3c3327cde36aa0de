import Foundation
@testable import Monitor
import XCTest

/// A stream's live view: /streams (HTML, escaped) and /api/v1/streams, and its stop button.
final class StreamViewTests: XCTestCase {
    private func view(state: String = "watching") -> StreamView {
        StreamView(id: "stream-1", input: "/in/<b>night</b>", output: "/out", started: Date(timeIntervalSince1970: 1_800_000_000),
                   state: state, batches: 3, filesCommitted: 40, filesFailed: 1, filesSkipped: 2, bytesRead: 4_000_000,
                   filesPerSecond: 2.5, megabytesPerSecond: 0.25, backlog: 4, lagSeconds: 1.5, latencyP50: 0.8,
                   latencyP90: 1.2, latencyP99: 2.25)
    }

    func testThePageAndTheAPIShowRateLagAndLatencyPercentiles() throws {
        let monitor = try Monitor(settings: MonitorSettings())
        let router = Router(monitor: monitor)
        XCTAssertTrue(String(decoding: router.respond(to: WebRequest(method: "GET", uri: "/streams")).body, as: UTF8.self)
            .contains("No stream"))
        monitor.updateStream(view())
        let page = String(decoding: router.respond(to: WebRequest(method: "GET", uri: "/streams")).body, as: UTF8.self)
        for text in ["stream-1", "2.50 files/s", "0.25 MB/s", "4 complete files waiting", "1.5 s ago",
                     "0.80 s / 1.20 s / 2.25 s", "40 committed, 1 failed, 2 skipped", "Stop stream", "&lt;b&gt;night"] {
            XCTAssertTrue(page.contains(text), "\(text) not in the page")
        }
        XCTAssertFalse(page.contains("<b>night"), "input names are escaped")

        let api = router.respond(to: WebRequest(method: "GET", uri: "/api/v1/streams"))
        XCTAssertEqual(api.status, 200)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: api.body) as? [[String: Any]])
        XCTAssertEqual(rows.first?["latencyP99"] as? Double, 2.25)
        XCTAssertEqual(rows.first?["backlog"] as? Int, 4)

        monitor.updateStream(view(state: "stopped"))
        let stopped = String(decoding: router.respond(to: WebRequest(method: "GET", uri: "/streams")).body, as: UTF8.self)
        XCTAssertFalse(stopped.contains("Stop stream"))
    }

    func testTheStopButtonReachesTheStream() throws {
        let monitor = try Monitor(settings: MonitorSettings())
        let stopped = expectation(description: "stop")
        monitor.updateStream(view())
        monitor.setCancelAction(for: "stream-1") { stopped.fulfill() }
        let response = Router(monitor: monitor).respond(to: WebRequest(method: "POST", uri: "/jobs/stream-1/cancel"))
        XCTAssertEqual(response.status, 303)
        wait(for: [stopped], timeout: 5)
    }
}
