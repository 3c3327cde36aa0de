import Engine
import Foundation
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// One task ahead per worker process (issue 12), with real `sextant worker --executor` processes:
/// the task held behind a running one waits in its worker (its input fetched meanwhile) and starts
/// there when the running one ends; a cancel or a drain takes it back unstarted, and a worker that
/// dies fails only the task it was running.
final class WorkerAheadTests: XCTestCase {
    private var runner: WorkerProcessRunner?

    override func tearDown() {
        runner?.stop()
        runner = nil
    }

    private func makeRunner(settings: [String: String] = [:]) throws -> WorkerProcessRunner {
        var environment = ProcessInfo.processInfo.environment
        environment[TestOperators.environmentVariable] = "1"
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let launcher = WorkerProcessBackend.Launcher(executable: TestSupport.sextantBinary, arguments: ["worker", "--executor"],
                                                     environment: environment, settings: settings)
        let made = try WorkerProcessRunner(slots: 1, launcher: launcher)
        runner = made
        return made
    }

    private func sleeping(_ partition: Int, milliseconds: Int) throws -> TaskSpec {
        let step = OperatorStep(name: SleepOperator.name,
                                parameters: try JSONEncoder().encode(SleepOperator.Parameters(milliseconds: milliseconds)))
        return TaskSpec(id: TaskAttemptID(jobID: "ahead", partition: partition, attempt: 1), inputs: ["r\(partition)"], steps: [step])
    }

    /// Results by attempt, as `start`'s closures deliver them.
    private final class Outcomes: @unchecked Sendable {
        private let lock = NSCondition()
        private var results: [TaskAttemptID: TaskResult] = [:]

        func done(_ result: TaskResult) {
            lock.lock(); results[result.id] = result; lock.broadcast(); lock.unlock()
        }

        func wait(for id: TaskAttemptID, timeout: TimeInterval = 30) -> TaskResult? {
            let deadline = Date(timeIntervalSinceNow: timeout)
            lock.lock(); defer { lock.unlock() }
            while results[id] == nil && lock.wait(until: deadline) {}
            return results[id]
        }

        var count: Int { lock.lock(); defer { lock.unlock() }; return results.count }
    }

    private func failure(_ result: TaskResult?) -> String? {
        guard case .failure(let message)? = result?.outcome else { return nil }
        return message
    }

    func testATaskHeldAheadStartsWhenTheRunningOneEndsAndACancelOrWithdrawTakesItBackUnstarted() throws {
        let runner = try makeRunner()
        XCTAssertEqual(runner.tasksAhead, 1)
        let outcomes = Outcomes()
        let first = try sleeping(0, milliseconds: 800), second = try sleeping(1, milliseconds: 0)
        XCTAssertTrue(runner.start(first, executor: "e") { outcomes.done($0) })
        XCTAssertTrue(runner.start(second, executor: "e") { outcomes.done($0) }, "held behind the running one")
        XCTAssertFalse(runner.start(try sleeping(2, milliseconds: 0), executor: "e") { outcomes.done($0) },
                       "one ahead per worker, no more")
        let second2 = outcomes.wait(for: second.id)
        let first2 = try XCTUnwrap(outcomes.wait(for: first.id))
        XCTAssertNil(failure(first2))
        XCTAssertNil(failure(second2), "the task held ahead ran when the first ended")

        // Cancelled while it waits: answered at once, before the running one ends.
        let third = try sleeping(3, milliseconds: 1500), fourth = try sleeping(4, milliseconds: 0)
        XCTAssertTrue(runner.start(third, executor: "e") { outcomes.done($0) })
        XCTAssertTrue(runner.start(fourth, executor: "e") { outcomes.done($0) })
        let cancelled = Date()
        runner.cancel(fourth.id)
        XCTAssertEqual(failure(outcomes.wait(for: fourth.id, timeout: 5)), "cancelled before it started")
        XCTAssertLessThan(Date().timeIntervalSince(cancelled), 1.2, "not after the running task")

        // Withdrawn (a drain): given back unstarted, and its closure is never called.
        let fifth = try sleeping(5, milliseconds: 0)
        XCTAssertTrue(runner.start(fifth, executor: "e") { outcomes.done($0) })
        XCTAssertEqual(runner.withdrawQueued(), [fifth.id])
        XCTAssertNil(failure(outcomes.wait(for: third.id)))
        XCTAssertNil(outcomes.wait(for: fifth.id, timeout: 0.5), "a withdrawn task never runs here")
        XCTAssertEqual(outcomes.count, 4, "all but the withdrawn one answered")
        XCTAssertEqual(runner.deaths, 0)
    }

    func testAWorkerThatDiesFailsOnlyItsRunningTaskAndTheOneAheadRunsOnItsReplacement() throws {
        let runner = try makeRunner()
        let outcomes = Outcomes()
        let running = try sleeping(0, milliseconds: 20_000), ahead = try sleeping(1, milliseconds: 0)
        XCTAssertTrue(runner.start(running, executor: "e") { outcomes.done($0) })
        XCTAssertTrue(runner.start(ahead, executor: "e") { outcomes.done($0) })
        let workers = Self.children(named: "worker")
        XCTAssertEqual(workers.count, 1, "one worker process")
        for pid in workers { kill(pid, SIGKILL) }
        let crashed = failure(outcomes.wait(for: running.id))
        XCTAssertTrue(crashed?.contains("SIGKILL") == true, crashed ?? "no failure")
        let moved = try XCTUnwrap(outcomes.wait(for: ahead.id), "the task ahead is not lost")
        XCTAssertNil(failure(moved), "it never started in the dead worker: it runs, uncounted, on the new one")
        XCTAssertEqual(runner.deaths, 1)
    }

    /// An extraction held ahead has its S3 object fetched while the worker runs the task before it:
    /// deleted from the store before its turn, it still extracts, from the bytes fetched ahead.
    func testTheInputOfATaskHeldAheadIsFetchedWhileTheWorkerRunsTheOneBefore() throws {
        guard let server = TestS3Server.running else { throw XCTSkip(TestS3Server.unavailable) }
        let bucket = server.bucket
        let settings = server.settings()
        let store = try StoreFactory.makeStore(for: "s3://\(bucket)", settings: settings)
        let image = try Data(contentsOf: try XCTUnwrap(TestSupport.dataFile("image.fits"), "the shared data"))
        let key = "ahead-\(UUID().uuidString.prefix(8))/image.fits"
        try store.put(key, data: image)
        let out = try TestSupport.makeTemporaryDirectory("worker-ahead")
        let input = InputFile(uri: "s3://\(bucket)/\(key)", relativePath: "image.fits", size: Int64(image.count))
        let extract = TaskSpec(id: TaskAttemptID(jobID: "ahead", partition: 1, attempt: 1),
                               inputs: [String(decoding: try JSONEncoder().encode(input), as: UTF8.self)],
                               steps: [OperatorStep(name: ExtractOperator.name,
                                                    parameters: try JSONEncoder().encode(ExtractParameters(output: out.path)))],
                               settings: settings)

        let runner = try makeRunner(settings: settings)
        let outcomes = Outcomes()
        let before = try sleeping(0, milliseconds: 2000)
        XCTAssertTrue(runner.start(before, executor: "e") { outcomes.done($0) })
        XCTAssertTrue(runner.start(extract, executor: "e") { outcomes.done($0) })
        usleep(1_000_000)  // the fetch of a 1.6 MB object from loopback is done well within this
        try store.delete(key)
        XCTAssertNil(failure(outcomes.wait(for: before.id)))
        let result = try XCTUnwrap(outcomes.wait(for: extract.id))
        guard case .success(let records) = result.outcome, let record = records.first else {
            return XCTFail("the extraction failed: \(failure(result) ?? "?")")
        }
        let entry = try JSONDecoder().decode(ManifestEntry.self, from: record)
        XCTAssertEqual(entry.outcome, .committed, entry.error ?? "")
        XCTAssertLessThan(entry.waitSeconds ?? 0, 0.05, "its bytes were there when it started")
    }

    /// This process's children whose command line contains `name`.
    static func children(named name: String) -> [pid_t] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == me,
                  let command = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")) else { return nil }
            return String(decoding: command, as: UTF8.self).contains(name) ? pid : nil
        }
    }
}
