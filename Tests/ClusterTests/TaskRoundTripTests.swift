import Engine
import Foundation
import XCTest
@testable import Cluster

final class TaskRoundTripTests: XCTestCase {
    private var fixture: ClusterFixture!

    override func tearDown() {
        fixture?.tearDown()
        fixture = nil
    }

    func testThreeExecutorsReturnEveryResultExactlyOnce() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        for cores in [1, 2, 3] { fixture.startExecutor(cores: cores, work: upperCasing(delay: 0.002)) }
        XCTAssertTrue(fixture.waitForExecutors(3))

        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: TestDriver.tasks(300))
        driver.start()
        XCTAssertTrue(driver.waitUntilDone(timeout: 20))
        driver.backend.stop()

        driver.snapshot { driver in
            XCTAssertEqual(driver.results.count, 300, "one result per launch, no duplicates")
            XCTAssertEqual(Set(driver.results.map(\.id)).count, 300)
            XCTAssertEqual(Set(driver.added.map(\.cores)), [1, 2, 3])
            XCTAssertTrue(driver.lost.isEmpty)
            for (partition, result) in driver.accepted {
                guard case .success(let records) = result.outcome else { return XCTFail("\(result)") }
                XCTAssertEqual(records, [Data("\"INPUT-\(partition)\"".utf8)])
            }
            // Pull scheduling spreads work over every executor.
            XCTAssertEqual(Set(driver.results.map(\.executor)).count, 3)
        }
    }

    func testLostExecutorIsReportedAndAFreshOneJoinsMidJob() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let doomed = fixture.startExecutor(cores: 2, work: upperCasing(delay: 0.02))
        fixture.startExecutor(cores: 1, work: upperCasing(delay: 0.02))
        XCTAssertTrue(fixture.waitForExecutors(2))
        let doomedID = try XCTUnwrap(doomed.executorID)

        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: TestDriver.tasks(60))
        driver.start()
        XCTAssertTrue(driver.wait(timeout: 10) { $0.accepted.count >= 10 })
        doomed.stop()
        XCTAssertTrue(driver.wait(timeout: 5) { $0.lost.contains { $0.0 == doomedID } })
        let joined = fixture.startExecutor(cores: 2, work: upperCasing(delay: 0.02))
        XCTAssertTrue(driver.waitUntilDone(timeout: 20))
        driver.backend.stop()

        let joinedID = try XCTUnwrap(joined.executorID)
        driver.snapshot { driver in
            XCTAssertEqual(driver.lost.map(\.0), [doomedID])
            XCTAssertTrue(driver.lost[0].1.contains("connection closed"), driver.lost[0].1)
            XCTAssertEqual(driver.added.map(\.id).last, joinedID, "the newcomer was offered to the running job")
            XCTAssertTrue(driver.results.contains { $0.executor == joinedID }, "the newcomer ran tasks")
            // Nothing from the lost executor arrives after its loss was reported.
            let lossIndex = driver.resultsAtLoss[doomedID] ?? 0
            XCTAssertFalse(driver.results.dropFirst(lossIndex).contains { $0.executor == doomedID })
            XCTAssertEqual(Set(driver.accepted.keys), Set(0..<60))
            XCTAssertEqual(driver.results.count, Set(driver.results.map(\.id)).count, "no result twice")
        }
    }

    func testSilentExecutorIsDeclaredLostAfterTheHeartbeatTimeout() throws {
        fixture = ClusterFixture(network: .fast(heartbeatTimeout: 0.6))
        try fixture.startMaster()
        // Configured to beat every 10 s, it adopts the master's 0.1 s on registration.
        var lazy = NetworkSettings.fast(heartbeatTimeout: 30)
        lazy.heartbeatInterval = 10
        let healthy = fixture.startExecutor(cores: 1, network: lazy)
        XCTAssertTrue(fixture.waitForExecutors(1))
        let healthyID = try XCTUnwrap(healthy.executorID)
        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: [])
        driver.start()

        // An executor that registers and then never speaks again.
        let silent = try PeerConnection.open(to: fixture.address, role: .executor, buildID: ClusterFixture.buildID,
                                             network: fixture.network, group: .singletonMultiThreadedEventLoopGroup,
                                             logger: fixture.logs.logger("silent"))
        silent.send(.register(ExecutorRegistration(host: "silent", cores: 4, localPaths: ["/scratch"])))
        guard case .registered(let ack) = try silent.receive(timeout: 2) else { return XCTFail("not registered") }
        XCTAssertTrue(driver.wait(timeout: 2) { $0.added.contains { $0.id == ack.executorID } })
        XCTAssertEqual(driver.snapshot { $0.added.first { $0.id == ack.executorID }?.localPaths }, ["/scratch"])

        XCTAssertTrue(driver.wait(timeout: 3) { $0.lost.contains { $0.0 == ack.executorID } })
        let reason = driver.snapshot { $0.lost.first { $0.0 == ack.executorID }?.1 } ?? ""
        XCTAssertTrue(reason.contains("no heartbeat"), reason)
        XCTAssertThrowsError(try drain(silent), "the master closed the silent executor's connection")
        // The heartbeating executor outlived it, well past the timeout.
        Thread.sleep(forTimeInterval: 0.7)
        XCTAssertFalse(driver.snapshot { $0.lost.contains { $0.0 == healthyID } })
        XCTAssertEqual(fixture.master.executors.map(\.id), [healthyID])
        XCTAssertEqual(healthy.executorID, healthyID, "never had to rejoin")
        driver.backend.stop()
    }

    func testExecutorRejoinsAMasterThatRestarted() throws {
        fixture = ClusterFixture()
        try fixture.startMaster()
        let port = try XCTUnwrap(fixture.master.port)
        let executor = fixture.startExecutor(cores: 2)
        XCTAssertTrue(fixture.waitForExecutors(1))

        fixture.stopMaster()
        XCTAssertTrue(eventually { executor.executorID == nil }, "the executor noticed the master left")
        try fixture.startMaster(port: port)
        XCTAssertTrue(fixture.waitForExecutors(1, timeout: 10))
        XCTAssertTrue(eventually { executor.executorID != nil })

        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: TestDriver.tasks(20))
        driver.start()
        XCTAssertTrue(driver.waitUntilDone(timeout: 10))
        XCTAssertEqual(driver.snapshot { $0.results.count }, 20)
        driver.backend.stop()
    }

    func testOversizedTasksAndResultsFailWithoutLosingTheExecutor() throws {
        var network = NetworkSettings.fast()
        network.maxFrameBytes = 8192
        fixture = ClusterFixture(network: network)
        try fixture.startMaster()
        fixture.startExecutor(cores: 1) { spec, executor in
            let size = spec.inputs.first == "big-result" ? 20_000 : 10
            return TaskResult(id: spec.id, executor: executor,
                              outcome: .success(records: [Data(repeating: 65, count: size)]), duration: 0)
        }
        XCTAssertTrue(fixture.waitForExecutors(1))
        let tasks = [
            TaskSpec(id: TaskAttemptID(jobID: "j", partition: 0, attempt: 0), inputs: ["big-result"], steps: []),
            TaskSpec(id: TaskAttemptID(jobID: "j", partition: 1, attempt: 1),
                     inputs: [String(repeating: "x", count: 20_000)], steps: []),
            TaskSpec(id: TaskAttemptID(jobID: "j", partition: 2, attempt: 2), inputs: ["small"], steps: []),
        ]
        let driver = TestDriver(backend: fixture.master.makeBackend(), tasks: tasks)
        driver.start()
        XCTAssertTrue(driver.waitUntilDone(timeout: 10))
        driver.backend.stop()
        driver.snapshot { driver in
            XCTAssertTrue(driver.lost.isEmpty)
            guard case .failure(let big)? = driver.accepted[0]?.outcome,
                  case .failure(let huge)? = driver.accepted[1]?.outcome,
                  case .success? = driver.accepted[2]?.outcome else {
                return XCTFail("\(driver.accepted)")
            }
            XCTAssertTrue(big.hasPrefix("the task's result ("), big)
            XCTAssertTrue(big.hasSuffix("bytes) exceeds sextant.network.maxFrameBytes (8192)"), big)
            XCTAssertTrue(huge.hasPrefix("the task ("), huge)
            XCTAssertTrue(huge.hasSuffix("bytes) exceeds sextant.network.maxFrameBytes (8192)"), huge)
        }
    }

    /// Reads until the connection ends (throws) or stays quiet for 3 s (returns).
    private func drain(_ connection: PeerConnection) throws {
        while try connection.receive(timeout: 3) != nil {}
    }
}
