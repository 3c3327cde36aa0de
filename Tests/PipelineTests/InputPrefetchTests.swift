import Foundation
import Engine
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// A task's next input is fetched from the store while the current one is extracted (issue 12),
/// one ahead and only below `sextant.input.prefetchBytes`, with the same errors as without it.
final class InputPrefetchTests: XCTestCase {
    func testTheNextObjectIsFetchedAheadOnlyWhenSmallAndErrorsAreThoseOfAPlainOpen() throws {
        guard let server = TestS3Server.running else { throw XCTSkip(TestS3Server.unavailable) }
        let bucket = server.bucket
        let settings = server.settings(["sextant.input.prefetchBytes": "4k"])
        let store = try StoreFactory.makeStore(for: "s3://\(bucket)", settings: settings)
        let prefix = "prefetch-\(UUID().uuidString.prefix(8))"
        let small = Data(repeating: 7, count: 2880), large = Data(repeating: 9, count: 5760)
        let sizes = [small, small, large, small, small]
        var inputs: [InputFile] = []
        for (index, data) in sizes.enumerated() {
            try store.put("\(prefix)/f\(index).fits", data: data)
            inputs.append(InputFile(uri: "s3://\(bucket)/\(prefix)/f\(index).fits", relativePath: "f\(index).fits",
                                    size: Int64(data.count)))
        }
        let prefetch = try InputPrefetch(inputs: inputs, stores: StoreCache(), settings: settings)

        let first = try prefetch.open(at: 0)
        XCTAssertGreaterThan(first.waited, 0, "the first object of a task is fetched while the task waits")
        XCTAssertEqual(prefetch.prefetchedIndex, 1, "opening input 0 starts input 1's fetch")
        prefetch.awaitPrefetch()
        // Gone from the store now, but its bytes were already fetched ahead.
        try store.delete("\(prefix)/f1.fits")
        XCTAssertEqual(try prefetch.open(at: 1).input.fingerprint(checksum: false).size, Int64(small.count))
        XCTAssertNil(prefetch.prefetchedIndex, "input 2 is larger than sextant.input.prefetchBytes: fetched in its turn")
        XCTAssertEqual(try prefetch.open(at: 2).input.fingerprint(checksum: false).size, Int64(large.count))
        XCTAssertEqual(prefetch.prefetchedIndex, 3)
        prefetch.awaitPrefetch()

        // Input 4 vanishes before its prefetch starts: opening it fails as a plain open would.
        try store.delete("\(prefix)/f4.fits")
        _ = try prefetch.open(at: 3)
        prefetch.awaitPrefetch()
        XCTAssertThrowsError(try prefetch.open(at: 4)) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .notFound, "\(error)")
        }
        let plain = InputFile(uri: inputs[4].uri, relativePath: "f4.fits", size: Int64(small.count))
        XCTAssertThrowsError(try ImageLoader.open(plain, stores: StoreCache(), settings: settings)) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .notFound, "\(error)")
        }
    }

    func testLocalFilesAreNotCopiedAndNoWaitIsCounted() throws {
        let dir = try TestSupport.makeTemporaryDirectory("prefetch-local")
        let inputs = try (0..<3).map { index -> InputFile in
            let url = dir.appendingPathComponent("f\(index).fits")
            try Data(repeating: 1, count: 2880).write(to: url)
            return InputFile(uri: url.path, relativePath: url.lastPathComponent, size: 2880)
        }
        let prefetch = try InputPrefetch(inputs: inputs, stores: StoreCache(), settings: [:])
        for index in inputs.indices {
            XCTAssertEqual(try prefetch.open(at: index).waited, 0)
            XCTAssertNil(prefetch.prefetchedIndex, "a local file gets a read-ahead hint, not a copy in memory")
        }
    }
}

/// The input of the task a worker holds ahead (`AheadInputs`): taken by that task's first open,
/// dropped, in flight or not, when the task will not take it, and never more than its capacity.
final class AheadInputsTests: XCTestCase {
    func testAHeldInputIsTakenByItsTaskDroppedWhenDiscardedAndBounded() throws {
        guard let server = TestS3Server.running else { throw XCTSkip(TestS3Server.unavailable) }
        let bucket = server.bucket
        let settings = server.settings()
        let store = try StoreFactory.makeStore(for: "s3://\(bucket)", settings: settings)
        let prefix = "ahead-\(UUID().uuidString.prefix(8))"
        let data = Data(repeating: 5, count: 2880)
        let inputs = try (0..<4).map { index -> InputFile in
            try store.put("\(prefix)/f\(index).fits", data: data)
            return InputFile(uri: "s3://\(bucket)/\(prefix)/f\(index).fits", relativePath: "f\(index).fits", size: 2880)
        }
        func spec(_ index: Int, settings: [String: String] = settings) throws -> TaskSpec {
            TaskSpec(id: TaskAttemptID(jobID: "a", partition: index, attempt: 1),
                     inputs: [String(decoding: try JSONEncoder().encode(inputs[index]), as: UTF8.self)],
                     steps: [OperatorStep(name: ExtractOperator.name, parameters: Data())], settings: settings)
        }
        let ahead = AheadInputs(capacity: 2, stores: StoreCache())

        // Taken by the task's own first open: the object is gone from the store, its bytes are not.
        ahead.fetch(try spec(0))
        try XCTUnwrap(ahead.fetch(of: try spec(0).id)).group.wait()
        try store.delete("\(prefix)/f0.fits")
        let taken = try XCTUnwrap(ahead.take(inputs[0]))
        XCTAssertEqual(try taken.result?.get().fingerprint(checksum: false).size, 2880)
        XCTAssertEqual(ahead.attempts, [], "taken once")

        // Discarded with the fetch in flight (the task was cancelled or withdrawn): nothing stays.
        ahead.fetch(try spec(1))
        weak let inFlight = ahead.fetch(of: try spec(1).id)
        XCTAssertNotNil(inFlight)
        ahead.discard(try spec(1).id)
        XCTAssertEqual(ahead.attempts, [])
        XCTAssertTrue(TestSupport.eventually(10) { inFlight == nil }, "the fetch's bytes are released when it lands")

        // Bounded: a third held input drops the oldest; and a task whose job says prefetchBytes 0 fetches nothing.
        for index in 1...3 { ahead.fetch(try spec(index)) }
        XCTAssertEqual(ahead.attempts.map(\.partition), [2, 3])
        ahead.fetch(try spec(0, settings: settings.merging(["sextant.input.prefetchBytes": "0"]) { _, new in new }))
        XCTAssertEqual(ahead.attempts.map(\.partition), [2, 3])
        for index in 2...3 { ahead.discard(try spec(index).id) }
        XCTAssertEqual(ahead.attempts, [])
    }
}
