import Engine
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// A stream's batches on a master, against a master that is a few lines of state.
final class SubmittedBatchRunnerTests: XCTestCase {
    private final class FakeMaster: BatchSubmitter, @unchecked Sendable {
        let lock = NSLock()
        var jobs: [String: JobStatus] = [:]
        var submitted: [String] = []
        var pools: [String?] = []
        var cancelled: [String] = []
        var waited: [String] = []
        /// What `wait` returns for a job (default: succeeded).
        var ending: [String: JobStatus] = [:]
        var whileWaiting: (() -> Void)?

        func status(of jobID: String) throws -> JobStatus? { lock.withLock { jobs[jobID] } }
        func submit(_ payload: Data, jobID: String, settings: [String: String]) throws {
            lock.withLock { pools.append(settings["sextant.scheduler.pool"]) }
            let spec = try JobSpec.decodeSubmission(payload)
            XCTAssertEqual(spec.jobID, jobID)
            lock.withLock { submitted.append(jobID); jobs[jobID] = .queued }
        }
        func wait(for jobID: String) throws -> JobStatus {
            lock.withLock { waited.append(jobID) }
            whileWaiting?()
            return lock.withLock { ending[jobID] ?? (cancelled.contains(jobID) ? .cancelled : .succeeded) }
        }
        func cancel(_ jobID: String) throws { lock.withLock { cancelled.append(jobID) } }
    }

    private func spec(_ id: String, resume: Bool) -> JobSpec {
        JobSpec(jobID: id, inputs: [InputFile(uri: "/in/a.fits", relativePath: "a.fits")],
                parameters: ExtractParameters(output: "/out"), resume: resume)
    }

    func testANewBatchIsSubmittedAndWaitedFor() throws {
        let master = FakeMaster()
        var batch = spec("s-b00000001", resume: false)
        batch.settings["sextant.scheduler.pool"] = "stream"
        try SubmittedBatchRunner(submitter: master).run(batch)
        XCTAssertEqual(master.submitted, ["s-b00000001"])
        XCTAssertEqual(master.pools, ["stream"], "the master reads the pool from the request, not the payload")
        XCTAssertEqual(master.waited, ["s-b00000001"])
    }

    func testAfterARestartARunningBatchIsWaitedForNotSubmittedAgain() throws {
        let master = FakeMaster()
        master.jobs["s-b00000002"] = .running
        try SubmittedBatchRunner(submitter: master).run(spec("s-b00000002", resume: true))
        XCTAssertEqual(master.submitted, [])
        XCTAssertEqual(master.waited, ["s-b00000002"])

        master.jobs["s-b00000003"] = .succeeded
        try SubmittedBatchRunner(submitter: master).run(spec("s-b00000003", resume: true))
        XCTAssertEqual(master.submitted, [], "it ended: its manifest is in the output already")

        master.jobs["s-b00000004"] = .interrupted
        try SubmittedBatchRunner(submitter: master).run(spec("s-b00000004", resume: true))
        XCTAssertEqual(master.submitted.count, 1)
        XCTAssertTrue(master.submitted[0].hasPrefix("s-b00000004-r"), "a new id: the master keeps the old one")
    }

    func testACancelFromElsewhereStopsTheStreamAndOurOwnCancelReachesTheMaster() throws {
        let master = FakeMaster()
        master.ending["s-b00000005"] = .cancelled  // `sextant cancel s-b00000005`
        let runner = SubmittedBatchRunner(submitter: master)
        let stopped = Locked(false)
        runner.onCancelledElsewhere = { stopped.value = true }
        try runner.run(spec("s-b00000005", resume: false))
        XCTAssertTrue(stopped.value)

        let own = SubmittedBatchRunner(submitter: master)
        let stoppedOwn = Locked(false)
        own.onCancelledElsewhere = { stoppedOwn.value = true }
        master.whileWaiting = { own.cancel() }
        try own.run(spec("s-b00000006", resume: false))
        XCTAssertEqual(master.cancelled, ["s-b00000006"])
        XCTAssertFalse(stoppedOwn.value, "the stream's own stop is not news to it")
    }
}
