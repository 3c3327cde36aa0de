import XCTest
@testable import Engine

/// The worker processes' pipe frames: tasks and results in the binary layout, the rest as JSON.
final class WorkerFramesTests: XCTestCase {
    private func body(_ frame: [UInt8]) -> [UInt8] {
        let length = frame.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(length, frame.count - 4, "the length prefix counts the body")
        return Array(frame.dropFirst(4))
    }

    func testTasksAndResultsRoundTripThroughThePipeFrames() throws {
        var spec = TaskSpec(id: TaskAttemptID(jobID: "job-ü", partition: 7, attempt: 3), inputs: ["a.fits", "b.fits"],
                            steps: [OperatorStep(name: "x", parameters: Data("{\"k\":1}".utf8))],
                            settings: ["out": "/tmp/o", "b": ""], speculative: true)
        spec.maxAddedPartitions = 5
        guard case .run(let back, let executor) = try WorkerFrameBody.request(body(try WorkerFrameBody.frame(
            WorkerRequest.run(spec, executor: "exec-1")))) else { return XCTFail("not a run") }
        XCTAssertEqual(executor, "exec-1")
        XCTAssertEqual(back.id, spec.id)
        XCTAssertEqual(back.inputs, spec.inputs)
        XCTAssertEqual(back.steps, spec.steps)
        XCTAssertEqual(back.settings, spec.settings)
        XCTAssertTrue(back.speculative)
        XCTAssertEqual(back.maxAddedPartitions, 5)

        var result = TaskResult(id: spec.id, executor: "w", outcome: .success(records: [Data([0, 1, 2]), Data()]),
                                duration: 0.25)
        result.addedPartitions = [["c"], []]
        guard case .finished(let got) = try WorkerFrameBody.reply(body(try WorkerFrameBody.frame(
            WorkerReply.finished(result)))), case .success(let records) = got.outcome else {
            return XCTFail("not a finished success")
        }
        XCTAssertEqual(records, [Data([0, 1, 2]), Data()])
        XCTAssertEqual(got.duration, 0.25)
        XCTAssertEqual(got.addedPartitions, [["c"], []])
        let failure = TaskResult(id: spec.id, executor: "w", outcome: .failure(message: "boom"), duration: 1)
        guard case .finished(let failed) = try WorkerFrameBody.reply(body(try WorkerFrameBody.frame(
            WorkerReply.finished(failure)))), case .failure(let message) = failed.outcome else {
            return XCTFail("not a finished failure")
        }
        XCTAssertEqual(message, "boom")
    }

    func testTheOtherMessagesTravelAsJSONAndGarbageIsRefused() throws {
        guard case .configure(let settings) = try WorkerFrameBody.request(body(try WorkerFrameBody.frame(
            WorkerRequest.configure(["k": "v"])))) else { return XCTFail("not a configure") }
        XCTAssertEqual(settings, ["k": "v"])
        let id = TaskAttemptID(jobID: "j", partition: 0, attempt: 1)
        guard case .cancel(let cancelled) = try WorkerFrameBody.request(body(try WorkerFrameBody.frame(
            WorkerRequest.cancel(id)))) else { return XCTFail("not a cancel") }
        XCTAssertEqual(cancelled, id)
        guard case .ready = try WorkerFrameBody.reply(body(try WorkerFrameBody.frame(WorkerReply.ready))) else {
            return XCTFail("not ready")
        }
        XCTAssertThrowsError(try WorkerFrameBody.request([9, 0, 0])) { XCTAssertTrue("\($0)".contains("kind 9")) }
        XCTAssertThrowsError(try WorkerFrameBody.reply([]))
        // A run whose spec announces more inputs than its bytes could hold fails before allocating them.
        XCTAssertThrowsError(try WorkerFrameBody.request([1, 0, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16)
                                                         + [0xFF, 0xFF, 0xFF, 0xFF])) {
            XCTAssertTrue("\($0)".contains("items announced"), "\($0)")
        }
    }

    /// An operator's parameters are decoded once while the tasks carry the same bytes, and again when they change.
    func testParametersAreDecodedAgainOnlyWhenTheirBytesChange() throws {
        let cache = LastBuilt<Int>()
        var decodes = 0
        func value(_ text: String) throws -> Int {
            try cache.value(for: Data(text.utf8)) {
                decodes += 1
                return Int(text)!
            }
        }
        XCTAssertEqual(try value("3"), 3)
        XCTAssertEqual(try value("3"), 3)
        XCTAssertEqual(decodes, 1)
        XCTAssertEqual(try value("4"), 4)
        XCTAssertEqual(try value("3"), 3)
        XCTAssertEqual(decodes, 3)
    }
}

/// Frames through a pipe's buffered reader: back to back in one write, split across writes,
/// larger than its buffer, and a truncated one ends the stream.
final class PipeReaderTests: XCTestCase {
    private func frame(_ body: [UInt8]) -> [UInt8] {
        var out = PipeFrames.startFrame()
        out.appendRaw(Data(body))
        return PipeFrames.finishFrame(out)
    }

    func testFramesArriveWholeHoweverTheyWereWritten() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]) }
        let writer = PipeFrames(descriptor: ends[1])
        let small = [UInt8](repeating: 1, count: 10), big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        let reader = PipeReader(descriptor: ends[0], capacity: 64)
        let writing = Thread {
            writer.write(self.frame(small) + self.frame([]) + self.frame([7]))  // three in one write
            let split = self.frame(big)
            writer.write(Array(split[0..<3]))  // the length itself split
            usleep(20_000)
            writer.write(Array(split[3...]))
            writer.write(Array(self.frame(small).prefix(8)))  // truncated: the writer dies mid-frame
            close(ends[1])
        }
        writing.start()
        XCTAssertEqual(reader.read(), small)
        XCTAssertEqual(reader.read(), [])
        XCTAssertEqual(reader.read(), [7])
        XCTAssertEqual(reader.read(), big, "larger than the reader's buffer")
        XCTAssertNil(reader.read(), "a frame cut short is the end")
        XCTAssertNil(reader.read())
    }
}
