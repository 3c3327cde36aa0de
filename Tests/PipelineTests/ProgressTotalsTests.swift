import Engine
import Foundation
import Pipeline
import XCTest

final class ProgressTotalsTests: XCTestCase {
    /// A master's totals count every entry and round-trip through their hand-written JSON.
    func testTotalsCountEveryEntryAndDecode() throws {
        let totals = JobProgressTotals()
        var last = JobProgressTotals.Counts()
        for index in 0..<1000 {
            let failed = index % 10 == 0
            last = totals.add(ManifestEntry(input: "/in/\(index).fits", outcome: failed ? .failed : .committed,
                                            rows: failed ? nil : 3))
        }
        XCTAssertEqual(last, JobProgressTotals.Counts(done: 1000, failed: 100, sources: 2700))
        XCTAssertEqual(JobProgressTotals.Counts.decode(last.encoded), last)
        XCTAssertNil(JobProgressTotals.Counts.decode(Data("{\"input\":\"/in/a.fits\"}".utf8)), "an entry is no totals")
    }

    /// Totals that jump (coalesced progress) log a line each time a multiple of logEvery is passed,
    /// and the last line once, at the total.
    func testShownTotalsLogAtEachMultipleOnce() {
        let lines = Locked<[String]>([])
        let reporter = ProgressReporter(total: 1000, isTerminal: false, logEvery: 100) { line in lines.update { $0.append(line) } }
        reporter.show(done: 50, failed: 0, sources: 10)
        reporter.show(done: 250, failed: 1, sources: 40)
        reporter.show(done: 260, failed: 1, sources: 41)
        reporter.show(done: 1000, failed: 2, sources: 90)
        reporter.show(done: 1000, failed: 2, sources: 90)
        XCTAssertEqual(lines.value.count, 2, "\(lines.value)")
        XCTAssertTrue(lines.value.last?.hasPrefix("progress: 1000/1000 files, 90 sources") == true, "\(lines.value)")
        XCTAssertTrue(lines.value.last?.hasSuffix("2 failed\n") == true, "\(lines.value)")
    }
}
