import Foundation
@testable import Monitor
import XCTest

/// A job's frame rows through the monitor: kept from input events, bounded, served as JSON and
/// as a page of plots, escaped, and rebuilt from the event log's JSON.
final class FrameMonitorTests: XCTestCase {
    private func frame(_ index: Int, input: String = "/in/f.fits") -> FrameRecord {
        FrameRecord(input: input, hdu: index % 2, extname: index % 2 == 1 ? "CCD<1>" : nil, mjd: 60000 + Double(index) / 10,
                    background: 100 + Double(index), rms: 5, sources: 20 + index, fwhm: 3 + Double(index) / 100,
                    depth: 150, depthMagnitude: 19.5, flagged: 0.1, ra: 150 + Double(index) / 100, dec: 2,
                    corners: [150.01, 1.99, 149.99, 1.99, 149.99, 2.01, 150.01, 2.01].enumerated().map {
                        $0.offset % 2 == 0 ? $0.element + Double(index) / 100 : $0.element },
                    keywords: ["FILTER": "r<b>"])
    }

    private func get(_ router: Router, _ path: String) -> (Int, String) {
        let response = router.respond(to: WebRequest(method: "GET", uri: path))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    func testFramesAreKeptServedAndPlotted() throws {
        let monitor = try Monitor(settings: MonitorSettings())
        monitor.record(.jobStart("j1", inputs: 3, output: "/out"))
        monitor.record(.input("j1", InputRecord(input: "/in/a.fits", outcome: .committed, frames: [frame(0), frame(1)])))
        monitor.record(.input("j1", InputRecord(input: "/in/b.fits", outcome: .committed, frames: [frame(2)])))
        monitor.record(.input("j1", InputRecord(input: "/in/c.fits", outcome: .excluded, error: "--where ... is false")))
        let router = Router(monitor: monitor)

        let (status, json) = get(router, "/api/v1/jobs/j1/frames")
        XCTAssertEqual(status, 200)
        let list = try JSONDecoder().decode(FrameList.self, from: Data(json.utf8))
        XCTAssertEqual(list.frames, [frame(0), frame(1), frame(2)])
        XCTAssertEqual(list.dropped, 0)
        XCTAssertEqual(get(router, "/api/v1/jobs/nope/frames").0, 404)
        XCTAssertEqual(get(router, "/jobs/nope/frames").0, 404)

        let (pageStatus, page) = get(router, "/jobs/j1/frames")
        XCTAssertEqual(pageStatus, 200)
        XCTAssertEqual(page.components(separatedBy: "<svg class=\"plot\"").count - 1, 4)
        XCTAssertEqual(page.components(separatedBy: "<circle ").count - 1, 3 + 3, "a point per frame in each of two plots")
        XCTAssertEqual(page.components(separatedBy: "<polygon ").count - 1, 3)
        XCTAssertFalse(page.contains("r<b>") || page.contains("CCD<1>"), "header values are escaped")
        XCTAssertTrue(page.contains("r&lt;b&gt;"))
        XCTAssertTrue(page.contains("60000.1"), "the time axis labels tell the frames apart")
        XCTAssertEqual(monitor.jobDetail("j1")?.job.inputsExcluded, 1)
        XCTAssertTrue(get(router, "/jobs/j1").1.contains("2 of 3 inputs done, 0 failed, 1 excluded by --where"))
    }

    func testFramesBeyondTheLimitAreCountedNotKept() throws {
        var state = JobState(id: "j")
        let rows = (0..<(FrameList.limit + 5)).map { frame($0) }
        state.apply(.input("j", InputRecord(input: "/in/m.fits", outcome: .committed, frames: rows)))
        XCTAssertEqual(state.frames.count, FrameList.limit)
        XCTAssertEqual(state.framesDropped, 5)

        // Through the event log's JSON, as a restarted master replays it.
        let event = MonitorEvent.input("j", InputRecord(input: "/in/n.fits", outcome: .committed, frames: [frame(1), frame(2)]))
        let replayed = try JSONDecoder.monitor.decode(MonitorEvent.self, from: JSONEncoder.monitor.encode(event))
        XCTAssertEqual(replayed.inputRecord?.frames, [frame(1), frame(2)])
    }
}

private extension JSONEncoder {
    static var monitor: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

private extension JSONDecoder {
    static var monitor: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
