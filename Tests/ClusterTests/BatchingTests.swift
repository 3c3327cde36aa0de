import Engine
import Foundation
import NIOCore
import XCTest
@testable import Cluster

/// Several tasks per launch frame and several results per result frame (protocol 3).
final class BatchingTests: XCTestCase {
    private var fixture: ClusterFixture!

    override func tearDown() {
        fixture?.tearDown()
        fixture = nil
    }

    private static func spec(_ partition: Int) -> TaskSpec {
        TaskSpec(id: TaskAttemptID(jobID: "j", partition: partition, attempt: partition + 1), inputs: ["in-\(partition)"],
                 steps: [OperatorStep(name: "op", parameters: Data("{}".utf8))], settings: ["k": "v"],
                 speculative: partition == 2)
    }

    func testMultiTaskFramesRoundTripThroughTheCodec() throws {
        let specs = (0..<3).map(Self.spec)
        var buffer = ByteBuffer()
        try Message.launchTasks(specs).encode(into: &buffer)
        XCTAssertEqual(buffer.getInteger(at: 4, as: UInt16.self), 3, "the version that introduced batches")
        XCTAssertEqual(buffer.getInteger(at: 6, as: UInt8.self), MessageType.launchTasks.rawValue)
        guard case .launchTasks(let decoded) = try Message.decode(frame: buffer) else { return XCTFail("not a launch batch") }
        XCTAssertEqual(decoded.map(\.id), specs.map(\.id))
        XCTAssertEqual(decoded.map(\.inputs), specs.map(\.inputs))
        XCTAssertEqual(decoded.map(\.speculative), [false, false, true])
        XCTAssertEqual(decoded[1].steps, specs[1].steps)
        XCTAssertEqual(decoded[1].settings, ["k": "v"])

        let results = [TaskResult(id: specs[0].id, executor: "e", outcome: .success(records: [Data("1".utf8)]), duration: 0.5),
                       TaskResult(id: specs[1].id, executor: "e", outcome: .failure(message: "boom"), duration: 0.25)]
        buffer.clear()
        try Message.taskResults(results).encode(into: &buffer)
        guard case .taskResults(let back) = try Message.decode(frame: buffer) else { return XCTFail("not a result batch") }
        XCTAssertEqual(back.map(\.id), results.map(\.id))
        XCTAssertEqual(back.map(\.duration), [0.5, 0.25])
        guard case .success(let records) = back[0].outcome, case .failure(let message) = back[1].outcome else {
            return XCTFail("outcomes changed: \(back)")
        }
        XCTAssertEqual(records, [Data("1".utf8)])
        XCTAssertEqual(message, "boom")
    }

    /// What a task may hand back, and what it did, cross the wire.
    func testHandedBackPartitionsRoundTripThroughTheCodec() throws {
        var spec = Self.spec(0)
        spec.maxAddedPartitions = 10_000
        var buffer = ByteBuffer()
        try Message.launchTasks([spec, Self.spec(1)]).encode(into: &buffer)
        guard case .launchTasks(let decoded) = try Message.decode(frame: buffer) else { return XCTFail("not a launch batch") }
        XCTAssertEqual(decoded.map(\.maxAddedPartitions), [10_000, nil])

        var result = TaskResult(id: spec.id, executor: "e", outcome: .success(records: []), duration: 1)
        result.addedPartitions = [["a"], ["b", "c"], []]
        buffer.clear()
        try Message.taskResults([result, TaskResult(id: spec.id, executor: "e", outcome: .failure(message: "x"),
                                                    duration: 0)]).encode(into: &buffer)
        guard case .taskResults(let back) = try Message.decode(frame: buffer) else { return XCTFail("not a result batch") }
        XCTAssertEqual(back.map(\.addedPartitions), [[["a"], ["b", "c"], []], nil])
    }

    /// The binary batch layout refuses what does not add up, with a reason, before allocating for it.
    func testMalformedBatchesAreRefused() throws {
        func header(_ type: MessageType) -> ByteBuffer {
            var buffer = ByteBuffer(bytes: WireFormat.magic)
            buffer.writeInteger(WireFormat.protocolVersion)
            buffer.writeInteger(type.rawValue)
            return buffer
        }
        func assertMalformed(_ frame: ByteBuffer, _ reason: String, line: UInt = #line) {
            XCTAssertThrowsError(try Message.decode(frame: frame), line: line) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(error)", line: line)
            }
        }
        var huge = header(.launchTasks)
        huge.writeInteger(UInt32.max)
        assertMalformed(huge, "4294967295 items announced, 0 bytes left")

        var valid = ByteBuffer()
        try Message.taskResults([TaskResult(id: TaskAttemptID(jobID: "j", partition: 0, attempt: 1), executor: "e",
                                            outcome: .failure(message: "m"), duration: 1)]).encode(into: &valid)
        var truncated = valid
        truncated.moveWriterIndex(to: valid.writerIndex - 3)
        assertMalformed(truncated, "the batch ends early")
        var trailing = valid
        trailing.writeInteger(UInt8(0))
        assertMalformed(trailing, "1 bytes after the batch")
        var badOutcome = valid
        badOutcome.setInteger(UInt8(7), at: WireFormat.headerBytes + 4 + 4 + 1 + 16 + 4 + 1)
        assertMalformed(badOutcome, "outcome 7")

        var oldVersion = valid
        oldVersion.setInteger(UInt16(2), at: 4)
        XCTAssertThrowsError(try Message.decode(frame: oldVersion)) { error in
            XCTAssertEqual("\(error)", "frame of protocol version 2, this side speaks 3")
        }
    }

    /// The scheduler's launches reach the executors several to a frame, and every task still runs once.
    func testARealJobSendsFewerLaunchFramesThanTasks() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        for _ in 0..<2 {
            fixture.startExecutor(cores: 4) { spec, executor in
                TaskResult(id: spec.id, executor: executor, outcome: .success(records: [Data("\(spec.id.partition)".utf8)]),
                           duration: 0)
            }
        }
        XCTAssertTrue(fixture.waitForExecutors(2))
        let scheduler = TaskScheduler(backend: fixture.master.makeBackend())
        scheduler.start()
        defer { scheduler.stop() }
        let tasks = 2000
        let result = scheduler.run(JobDescription(partitionCount: tasks, inputs: { ["\($0)"] }, steps: []))
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions.filter { $0.status == .succeeded }.count, tasks)
        XCTAssertEqual(result.partitions[1234].records, [Data("1234".utf8)])
        let launches = fixture.master.launchCounts
        print("batching: \(launches.tasks) tasks in \(launches.frames) launch frames")
        XCTAssertEqual(launches.tasks, tasks, "one launch per task: nothing lost or sent twice")
        XCTAssertLessThan(launches.frames, tasks)
    }

    /// Results that finish within `sextant.executor.resultWindow` of each other travel in one frame:
    /// three (fewer than the executor holds) when the window ends, four (all it holds) at once.
    func testResultsFinishingTogetherShareOneFrame() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        fixture.startExecutor(cores: 4, queuedPerSlot: 0, resultWindow: 0.2) { spec, executor in
            TaskResult(id: spec.id, executor: executor, outcome: .success(records: []), duration: 0)
        }
        XCTAssertTrue(fixture.waitForExecutors(1))
        let scheduler = TaskScheduler(backend: fixture.master.makeBackend())
        scheduler.start()
        defer { scheduler.stop() }
        XCTAssertEqual(scheduler.run(JobDescription(partitionCount: 3, inputs: { ["\($0)"] }, steps: [])).status, .succeeded)
        XCTAssertEqual(fixture.master.launchCounts.resultFrames, 1, "the window gathered the three")
        XCTAssertEqual(fixture.master.launchCounts.results, 3)
        XCTAssertEqual(scheduler.run(JobDescription(partitionCount: 4, inputs: { ["\($0)"] }, steps: [])).status, .succeeded)
        XCTAssertEqual(fixture.master.launchCounts.resultFrames, 2, "four results: as many as it holds, sent together")
        XCTAssertEqual(fixture.master.launchCounts.results, 7)
    }

    /// Four tasks that fit a frame each but not together: the batch goes again a task per frame, and all run.
    func testABatchTooLargeForOneFrameIsSentATaskPerFrame() throws {
        var network = NetworkSettings.fast()
        network.maxFrameBytes = 64 << 10
        fixture = ClusterFixture(network: network)
        try fixture.startMaster()
        fixture.startExecutor(cores: 4) { spec, executor in
            TaskResult(id: spec.id, executor: executor, outcome: .success(records: [Data("\(spec.inputs[0].count)".utf8)]),
                       duration: 0)
        }
        XCTAssertTrue(fixture.waitForExecutors(1))
        let scheduler = TaskScheduler(backend: fixture.master.makeBackend())
        scheduler.start()
        defer { scheduler.stop() }
        let result = scheduler.run(JobDescription(partitionCount: 4, inputs: { [String(repeating: "x", count: 20_000 + $0)] },
                                                  steps: []))
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions.map(\.records), (0..<4).map { [Data("\(20_000 + $0)".utf8)] })
        XCTAssertGreaterThanOrEqual(fixture.master.launchCounts.frames, 5, "the batch, then one frame a task")
    }

    /// An executor (written by hand, the spec's view) answers a frame of 4 launches with one frame
    /// of 4 results, one of them failed: only that task fails, the others' records are kept.
    func testOneFailureInAResultFrameFailsOnlyItsTask() throws {
        let secret = "batching-secret"
        fixture = ClusterFixture(network: .fast(secret: secret))
        try fixture.startMaster()
        let peer = try RawPeer(port: fixture.master.port!)
        let hello = try XCTUnwrap(peer.readFrame())
        var session = try XCTUnwrap(FakeClient.authenticate(peer, role: .executor, secret: ClusterSecret(secret),
                                                            serverNonce: try XCTUnwrap(FuzzTests.nonce(in: hello.body)),
                                                            cores: 4))
        XCTAssertTrue(fixture.waitForExecutors(1))
        var engine = EngineSettings()
        engine.maxFailures = 1
        let scheduler = TaskScheduler(backend: fixture.master.makeBackend(), settings: engine)
        scheduler.start()
        defer { scheduler.stop() }
        let handle = scheduler.submit(JobDescription(partitionCount: 4, inputs: { ["\($0)"] }, steps: [],
                                                     options: JobOptions(failFast: false)))

        let frame = try XCTUnwrap(peer.readFrame(), "no launch")
        XCTAssertEqual(frame.type, MessageType.launchTasks.rawValue, "4 free slots, 4 tasks: one frame")
        let body = try XCTUnwrap(session.open(frame), "the launch frame's MAC")
        let opened = ByteBuffer(bytes: Array("SXTN".utf8) + [0, 3, frame.type] + body)
        guard case .launchTasks(let specs) = try Message.decode(frame: opened) else { return XCTFail("not a launch batch") }
        XCTAssertEqual(specs.map(\.id.partition).sorted(), [0, 1, 2, 3])
        let results = specs.map { spec in
            TaskResult(id: spec.id, executor: "anything", outcome: spec.id.partition == 2
                       ? .failure(message: "bad input") : .success(records: [Data("\(spec.id.partition)".utf8)]),
                       duration: 0.01)
        }
        var encoded = ByteBuffer()
        try Message.taskResults(results).encode(into: &encoded)
        peer.write(session.seal(RawPeer.frame(type: MessageType.taskResults.rawValue,
                                              body: Array(encoded.readableBytesView.dropFirst(WireFormat.headerBytes)))))

        let result = handle.wait()
        XCTAssertEqual(result.status, .completedWithFailures)
        XCTAssertEqual(result.failedPartitions.map(\.partition), [2])
        XCTAssertTrue(result.failedPartitions[0].failureReasons.last?.contains("bad input") == true,
                      "\(result.failedPartitions[0].failureReasons)")
        for partition in [0, 1, 3] {
            XCTAssertEqual(result.partitions[partition].status, .succeeded)
            XCTAssertEqual(result.partitions[partition].records, [Data("\(partition)".utf8)])
        }

    }
}
