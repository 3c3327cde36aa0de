import Foundation
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// The checkpoint's bound and the batch policy, without processes.
final class StreamCheckpointTests: XCTestCase {
    private func key(_ index: Int) -> String { String(format: "f%04d.fits", index) }

    func testTheCursorAdvancesOverTheOldestNamesAndTheWindowStaysBounded() {
        var checkpoint = StreamCheckpoint(streamID: "s", source: "/in")
        for start in stride(from: 0, to: 100, by: 10) {
            checkpoint.settle((start..<start + 10).map(key), pending: [], window: 25)
            XCTAssertLessThanOrEqual(checkpoint.done.count, 25)
        }
        XCTAssertEqual(checkpoint.cursor, key(74))
        XCTAssertEqual(checkpoint.done.first, key(75))
        for index in 0..<100 { XCTAssertTrue(checkpoint.isDone(key(index)), key(index)) }
        XCTAssertFalse(checkpoint.isDone(key(100)))
    }

    func testAPendingNameHoldsTheCursorBehindIt() {
        var checkpoint = StreamCheckpoint(streamID: "s", source: "/in")
        let settled = (0..<50).filter { $0 != 10 }.map(key)
        checkpoint.settle(settled, pending: [key(10)], window: 5)
        XCTAssertEqual(checkpoint.cursor, key(9), "never past the file still being written")
        XCTAssertFalse(checkpoint.isDone(key(10)))
        checkpoint.settle([key(10)], pending: [], window: 5)
        XCTAssertEqual(checkpoint.cursor, key(44))
        XCTAssertEqual(checkpoint.done.count, 5)
    }

    func testAKeyLandingBehindTheNewestWithinTheWindowIsStillNew() {
        var checkpoint = StreamCheckpoint(streamID: "s", source: "/in")
        checkpoint.settle((0..<40).filter { $0 != 35 }.map(key), pending: [], window: 8)
        XCTAssertFalse(checkpoint.isDone(key(35)), "it landed late, 4 keys behind the newest")
        XCTAssertTrue(checkpoint.isDone(key(2)))
    }

    func testTheCheckpointRoundTripsThroughAStore() throws {
        let store = LocalStore(root: try TestSupport.makeTemporaryDirectory("stream-checkpoint").path)
        var checkpoint = StreamCheckpoint(streamID: "s", source: "/in")
        checkpoint.inFlight = StreamBatch(number: 3, files: [StreamFile(input: InputFile(uri: "/in/a.fits", relativePath: "a.fits", size: 9),
                                                                      landed: Date(timeIntervalSince1970: 1000))],
                                          skipped: [SkippedFile(key: "b.fits", reason: "old")])
        checkpoint.settle([key(1)], pending: [], window: 16)
        try checkpoint.save(to: store)
        XCTAssertEqual(try StreamCheckpoint.load(from: store), checkpoint)
        try store.put(StreamCheckpoint.key, data: Data("{".utf8))
        XCTAssertThrowsError(try StreamCheckpoint.load(from: store)) { error in
            XCTAssertTrue("\(error)".contains("checkpoint.json: unreadable"), "\(error)")
        }
    }

    private func files(_ count: Int, now: Date) -> [StreamFile] {
        (0..<count).map { index in
            StreamFile(input: InputFile(uri: "/in/\(key(index))", relativePath: key(index)),
                       landed: now.addingTimeInterval(Double(index - count)))
        }
    }

    func testOldestFirstTakesTheOldestAndSkipsNothing() {
        var settings = StreamSettings()
        settings.maxFilesPerBatch = 3
        let now = Date()
        let (run, skipped) = BatchSelection.select(files(10, now: now).shuffled(), settings: settings, now: now)
        XCTAssertEqual(run.map(\.input.relativePath), [key(0), key(1), key(2)])
        XCTAssertTrue(skipped.isEmpty)
    }

    func testNewestFirstTakesTheNewestAndSaysWhatItSkipped() {
        var settings = StreamSettings()
        settings.maxFilesPerBatch = 3
        settings.order = .newest
        let now = Date()
        let (run, skipped) = BatchSelection.select(files(10, now: now), settings: settings, now: now)
        XCTAssertEqual(run.map(\.input.relativePath), [key(7), key(8), key(9)])
        XCTAssertEqual(skipped.map(\.key), (0..<7).map(key))
        XCTAssertTrue(skipped[0].reason.contains("sextant.stream.order newest"), skipped[0].reason)
    }

    func testMaxFileAgeSkipsOldFilesWithTheReason() {
        var settings = StreamSettings()
        settings.maxFileAge = 4.5
        let now = Date()
        let (run, skipped) = BatchSelection.select(files(10, now: now), settings: settings, now: now)
        XCTAssertEqual(run.map(\.input.relativePath), (6..<10).map(key))
        XCTAssertEqual(skipped.map(\.key), (0..<6).map(key))
        XCTAssertTrue(skipped[0].reason.contains("sextant.stream.maxFileAge"), skipped[0].reason)
    }

    func testSettingsAreReadAndABadOrderIsRefused() throws {
        let settings = try StreamSettings(Configuration(["sextant.stream.order": "newest", "sextant.stream.maxFileAge": "1h",
                                                         "sextant.stream.settleTime": "500ms"]))
        XCTAssertEqual(settings.order, .newest)
        XCTAssertEqual(settings.maxFileAge, 3600)
        XCTAssertEqual(settings.settleTime, 0.5)
        XCTAssertNil(try StreamSettings(Configuration()).maxFileAge, "off by default")
        XCTAssertThrowsError(try StreamSettings(Configuration(["sextant.stream.order": "random"]))) { error in
            XCTAssertTrue("\(error)".contains("sextant.stream.order"), "\(error)")
        }
    }

    func testHiddenPartialAndNonImageNamesAreNotCandidates() {
        XCTAssertTrue(StreamSource.isCandidate("night/f.fits"))
        XCTAssertTrue(StreamSource.isCandidate("f.fz"))
        XCTAssertFalse(StreamSource.isCandidate(".f.fits"))
        XCTAssertFalse(StreamSource.isCandidate("f.fits.part"))
        XCTAssertFalse(StreamSource.isCandidate("_stream/x.fits"))
    }
}

/// What the watcher lists: complete files, pending ones, at most a limit.
final class StreamSourceTests: XCTestCase {
    func testAListingStopsAtItsLimitAndHoldsBackFilesStillBeingWritten() throws {
        let root = try TestSupport.makeTemporaryDirectory("stream-source")
        let store = LocalStore(root: root.path)
        for index in 0..<30 { try store.put(String(format: "f%04d.fits", index), data: Data("x".utf8)) }
        try store.put(".f9999.fits.part", data: Data())
        let old = Date(timeIntervalSinceNow: -60)
        for index in 0..<20 {
            try FileManager.default.setAttributes([.modificationDate: old],
                                                  ofItemAtPath: root.appendingPathComponent(String(format: "f%04d.fits", index)).path)
        }
        let source = StreamSource(store: store, watch: false)
        var checkpoint = StreamCheckpoint(streamID: "s", source: root.path)
        checkpoint.settle(["f0000.fits", "f0001.fits"], pending: [], window: 100)
        let all = try source.list(after: checkpoint, settleTime: 10)
        XCTAssertEqual(all.complete.map(\.input.relativePath), (2..<20).map { String(format: "f%04d.fits", $0) })
        XCTAssertEqual(all.pending.count, 10, "written just now: not settled for 10 s")
        XCTAssertNotNil(all.nextSettle)
        XCTAssertEqual(all.complete.first?.input.uri, root.path + "/f0002.fits")
        let first = try source.list(after: checkpoint, settleTime: 10, limit: 5)
        XCTAssertEqual(first.complete.map(\.input.relativePath), (2..<7).map { String(format: "f%04d.fits", $0) })
        XCTAssertTrue(first.pending.isEmpty)
    }
}
