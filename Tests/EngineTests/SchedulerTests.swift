import TestSupport
import XCTest
@testable import Engine

final class SchedulerTests: XCTestCase {
    /// A closure operator that fails for inputs named "bad", and for "flaky" until its third try.
    func failingRegistry(calls: Locked<[String: Int]>) -> OperatorRegistry {
        let registry = OperatorRegistry()
        registry.register("test.sometimes-fails", input: String.self, output: String.self) { inputs, context in
            try inputs.map { input in
                let call = calls.mutate { counts -> Int in
                    counts[input, default: 0] += 1
                    return counts[input]!
                }
                if input == "bad" { throw TestFailure("cannot read \(input) (call \(call))") }
                if input == "flaky" && call < 3 { throw TestFailure("timeout reading flaky (call \(call))") }
                return input.uppercased()
            }
        }
        return registry
    }

    func testRetriesKeepEveryReasonThenReportTheFailedPartitionAndContinue() throws {
        let calls = Locked<[String: Int]>([:])
        let registry = failingRegistry(calls: calls)
        let context = EngineContext(backend: LocalBackend(registry: registry, slots: 2), registry: registry,
                                    settings: settings { $0.maxFailures = 3 })
        defer { context.stop() }
        let data = try context.dataset(["a", "bad", "flaky", "b"])
            .mapPartitions(named: "test.sometimes-fails", as: String.self)
        let result = data.save()

        XCTAssertEqual(result.status, .completedWithFailures)
        XCTAssertEqual(result.partitions.map(\.status), [.succeeded, .failed, .succeeded, .succeeded])
        let bad = result.partitions[1]
        XCTAssertEqual(bad.attempts, 3)
        XCTAssertEqual(bad.failureReasons.count, 3)
        for (index, reason) in bad.failureReasons.enumerated() {
            XCTAssertTrue(reason.contains("cannot read bad (call \(index + 1))"), reason)
            XCTAssertTrue(reason.contains("on local"), reason)
        }
        let flaky = result.partitions[2]
        XCTAssertEqual(flaky.attempts, 3)
        XCTAssertEqual(flaky.failureReasons.count, 2, "failures before the success are kept")
        XCTAssertEqual(decodeStrings(flaky.records), ["FLAKY"])
        XCTAssertEqual(calls.value["bad"], 3, "no attempts beyond maxFailures")
        XCTAssertThrowsError(try data.collect()) { error in
            XCTAssertTrue("\(error)".contains("1 of 4 partitions failed"), "\(error)")
        }
    }

    func testFailFastStopsTheJobAtTheFirstExhaustedPartition() throws {
        let calls = Locked<[String: Int]>([:])
        let registry = failingRegistry(calls: calls)
        let context = EngineContext(backend: LocalBackend(registry: registry, slots: 1), registry: registry,
                                    settings: settings { $0.maxFailures = 2 })
        defer { context.stop() }
        let inputs = ["bad"] + (0..<50).map { "ok\($0)" }
        let result = try context.dataset(inputs).mapPartitions(named: "test.sometimes-fails", as: String.self)
            .save(options: JobOptions(failFast: true))

        XCTAssertEqual(result.status, .failed)
        let reason = try XCTUnwrap(result.failureReason)
        XCTAssertTrue(reason.contains("partition 0 failed 2 times"), reason)
        XCTAssertEqual(result.partitions[0].status, .failed)
        XCTAssertEqual(result.partitions[0].failureReasons.count, 2)
        // One slot, retries go first: the job stopped before the tail ran.
        let cancelled = result.partitions.filter { $0.status == .cancelled }.count
        XCTAssertGreaterThan(cancelled, 0)
        XCTAssertEqual(cancelled + result.partitions.filter { $0.status == .succeeded }.count, 50)
    }

    func testSpeculativeCopyOfAStragglerWinsAndTheOriginalIsCancelledAndDiscarded() {
        let backend = ManualBackend(executors: [ExecutorInfo(id: "e1", host: "h1", cores: 1),
                                                ExecutorInfo(id: "e2", host: "h2", cores: 1)])
        let scheduler = TaskScheduler(backend: backend, settings: settings {
            $0.speculation = true
            $0.speculationQuantile = 0.5
            $0.speculationMultiplier = 1
            $0.speculationMinRuntime = 0
            $0.speculationInterval = 0.01
        })
        let listener = RecordingListener()
        let handle = scheduler.submit(job(partitions: 2, options: JobOptions(listener: listener)))
        let first = backend.waitForLaunches(2)
        let straggler = first.first { $0.spec.id.partition == 0 }!
        let quick = first.first { $0.spec.id.partition == 1 }!
        XCTAssertNotEqual(straggler.executor, quick.executor)
        backend.succeed(quick.spec, on: quick.executor, records: ["p1"])

        let copy = backend.waitForLaunches(3)[2]
        XCTAssertTrue(copy.spec.speculative)
        XCTAssertEqual(copy.spec.id.partition, 0)
        XCTAssertNotEqual(copy.spec.id.attempt, straggler.spec.id.attempt)
        XCTAssertEqual(copy.executor, quick.executor, "the copy runs where the straggler does not")

        backend.succeed(copy.spec, on: copy.executor, records: ["copy"])
        backend.waitForCancel(straggler.spec.id)
        let result = handle.wait()
        // The original's result arrives after the copy won: discarded, and its slot freed.
        backend.succeed(straggler.spec, on: straggler.executor, records: ["original"])
        drain(scheduler)

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(decodeStrings(result.partitions[0].records), ["copy"])
        XCTAssertEqual(result.partitions[0].executor, copy.executor)
        XCTAssertEqual(result.partitions[0].attempts, 2)
        XCTAssertEqual(decodeStrings(handle.result!.partitions[0].records), ["copy"])
        XCTAssertTrue(scheduler.executorSnapshot().allSatisfy { $0.freeSlots == 1 })
        XCTAssertEqual(backend.launches.count, 3, "one copy only")
    }

    func testSpeculationInLocalModeRescuesADeliberatelySlowTask() throws {
        let registry = OperatorRegistry()
        registry.register("test.slow-first", input: String.self, output: String.self) { inputs, context in
            // The first attempt of partition 0 hangs until someone cancels it.
            if context.attemptID.partition == 0 && !context.isSpeculative {
                while !context.isCancelled { usleep(1000) }
                try context.checkCancellation()
            }
            return inputs.map { "\($0) by \(context.isSpeculative ? "copy" : "original")" }
        }
        let context = EngineContext(backend: LocalBackend(registry: registry, slots: 2), registry: registry,
                                    settings: settings {
                                        $0.speculation = true
                                        $0.speculationMinRuntime = 0.05
                                        $0.speculationInterval = 0.01
                                    })
        defer { context.stop() }
        let listener = RecordingListener()
        let result = try context.dataset(["x", "y", "z", "w"]).mapPartitions(named: "test.slow-first", as: String.self)
            .save(options: JobOptions(listener: listener))

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(decodeStrings(result.partitions[0].records), ["x by copy"])
        XCTAssertEqual(result.partitions[0].attempts, 2)
        XCTAssertTrue(result.partitions[0].failureReasons.isEmpty, "a cancelled straggler is not a failure")
        XCTAssertEqual(listener.started.value.filter(\.speculative).map(\.attempt.partition), [0])
    }

    func testExecutorLossReschedulesItsAttemptsAndFencesTheirLateResults() {
        let backend = ManualBackend(executors: [ExecutorInfo(id: "e1", host: "h1", cores: 1),
                                                ExecutorInfo(id: "e2", host: "h2", cores: 1)])
        let scheduler = TaskScheduler(backend: backend, settings: settings { $0.maxFailures = 1 })
        let listener = RecordingListener()
        let handle = scheduler.submit(job(partitions: 2, options: JobOptions(listener: listener)))
        let first = backend.waitForLaunches(2)
        let doomed = first.first { $0.executor == "e1" }!
        let survivor = first.first { $0.executor == "e2" }!

        backend.events.executorLost("e1", reason: "heartbeats missed")
        backend.succeed(survivor.spec, on: "e2", records: ["survivor"])
        let rerun = backend.waitForLaunches(3)[2]
        XCTAssertEqual(rerun.executor, "e2")
        XCTAssertEqual(rerun.spec.id.partition, doomed.spec.id.partition)
        XCTAssertNotEqual(rerun.spec.id.attempt, doomed.spec.id.attempt)

        // The dead executor's result turns up late: it must not count.
        backend.succeed(doomed.spec, on: "e1", records: ["late"])
        drain(scheduler)
        XCTAssertNil(handle.result, "a fenced result does not finish the partition")
        backend.succeed(rerun.spec, on: "e2", records: ["rerun"])

        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded, "a lost attempt is not a failure even with maxFailures 1")
        let partition = result.partitions[doomed.spec.id.partition]
        XCTAssertEqual(decodeStrings(partition.records), ["rerun"])
        XCTAssertEqual(partition.lostAttempts, 1)
        XCTAssertEqual(partition.attempts, 2)
        XCTAssertTrue(partition.failureReasons.isEmpty)
        XCTAssertEqual(listener.lost.value, ["e1"])
        XCTAssertTrue(listener.ended.value.contains {
            $0.attempt == doomed.spec.id && $0.outcome == .lost(reason: "heartbeats missed")
        })
    }

    func testResultWithAWrongAttemptIDIsIgnoredAndFreesNoSlot() {
        let backend = ManualBackend(executors: [ExecutorInfo(id: "e1", host: "h1", cores: 1)])
        let scheduler = TaskScheduler(backend: backend)
        let handle = scheduler.submit(job(partitions: 2))
        let launched = backend.waitForLaunches(1)[0]

        var forged = launched.spec
        forged.id.attempt += 99
        backend.succeed(forged, on: "e1", records: ["forged"])
        backend.succeed(launched.spec, on: "e2", records: ["wrong executor"])
        drain(scheduler)
        XCTAssertEqual(backend.launches.count, 1, "the slot is still taken by the live attempt")
        XCTAssertNil(handle.result)

        backend.succeed(launched.spec, on: "e1", records: ["real"])
        let second = backend.waitForLaunches(2)[1]
        backend.succeed(second.spec, on: "e1", records: ["second"])
        let result = handle.wait()
        XCTAssertEqual(decodeStrings(result.partitions[launched.spec.id.partition].records), ["real"])
    }

    func testCommittedOutputLostAfterCommitIsRecomputedFromLineage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let registry = OperatorRegistry()
        let runs = Locked<[String]>([])
        registry.register("test.commit", input: String.self, output: String.self) { inputs, context in
            let path = directory.appendingPathComponent("part-\(context.attemptID.partition)").path
            try inputs.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            runs.mutate { $0.append(inputs[0]) }
            return [path]
        }
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let committed: @Sendable (Int) -> Bool = { partition in
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("part-\(partition)").path)
        }
        // Resume: partition 3 was committed by an earlier run.
        try "old".write(to: directory.appendingPathComponent("part-3"), atomically: true, encoding: .utf8)
        // A disk hiccup loses partition 1's output right after it is committed, once.
        let listener = RecordingListener()
        let lostOnce = Locked(false)
        listener.onTaskEnded = { event in
            if case .succeeded = event.outcome, event.attempt.partition == 1, !lostOnce.value {
                lostOnce.value = true
                try? FileManager.default.removeItem(at: directory.appendingPathComponent("part-1"))
            }
        }
        let result = try context.dataset(["a", "b", "c", "d"]).mapPartitions(named: "test.commit", as: String.self)
            .save(options: JobOptions(outputCheck: OutputCheck(isCommitted: committed), listener: listener))

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(result.partitions.map(\.status), [.succeeded, .succeeded, .succeeded, .skipped])
        XCTAssertEqual(result.partitions[1].recomputations, 1)
        XCTAssertEqual(result.partitions[1].attempts, 2)
        XCTAssertEqual(runs.value.sorted(), ["a", "b", "b", "c"], "d was skipped; b ran twice")
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("part-1"), encoding: .utf8), "b")
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("part-3"), encoding: .utf8), "old")
    }

    /// The Engine owns lineage: at the job's end one listing (not a check per partition) finds
    /// the lost outputs, the scheduler recomputes only those, and lists again before ending.
    func testALostOutputIsFoundByOneListingAPassAndRecomputed() throws {
        let committed = Locked<Set<Int>>([])
        let registry = OperatorRegistry()
        let runs = Locked<[Int]>([])
        registry.register("test.commit", input: String.self, output: String.self) { inputs, context in
            let partition = context.attemptID.partition
            runs.mutate { $0.append(partition) }
            // Partition 2's first commit is lost at once (its disk died); every other one stays.
            committed.mutate { if partition != 2 || runs.value.filter({ $0 == 2 }).count > 1 { $0.insert(partition) } }
            return inputs.map { $0.uppercased() }
        }
        let listings = Locked(0)
        let check = OutputCheck(skipCommitted: false, listing: {
            listings.mutate { $0 += 1 }
            let now = committed.value
            return { now.contains($0) }
        })
        let listener = RecordingListener()
        let seen = Locked<[Int: [Data]]>([:])
        listener.onTaskEnded = { event in
            if case .succeeded = event.outcome { seen.mutate { $0[event.attempt.partition] = event.records } }
        }
        var options = JobOptions(outputCheck: check, listener: listener)
        options.retainsRecords = false
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 2 })
        defer { context.stop() }
        let result = try context.dataset(["a", "b", "c", "d"]).mapPartitions(named: "test.commit", as: String.self)
            .save(options: options)

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(listings.value, 2, "one listing finds the loss, one more confirms the recompute")
        XCTAssertEqual(runs.value.sorted(), [0, 1, 2, 2, 3], "only the lost partition ran again")
        XCTAssertEqual(result.partitions[2].recomputations, 1)
        XCTAssertEqual(result.partitions.map(\.records.count), [0, 0, 0, 0], "records went to the listener only")
        XCTAssertEqual(decodeStrings(seen.value[2] ?? []), ["C"])
    }

    func testAListingThatFailsFailsTheJobWithTheReason() throws {
        struct StoreDown: Error, CustomStringConvertible { var description: String { "store is down" } }
        let registry = OperatorRegistry()
        registry.register("test.identity", input: String.self, output: String.self) { inputs, _ in inputs }
        let context = EngineContext.local(registry: registry, settings: settings { $0.localSlots = 1 })
        defer { context.stop() }
        let check = OutputCheck(skipCommitted: false, listing: { throw StoreDown() })
        let result = try context.dataset(["a"]).mapPartitions(named: "test.identity", as: String.self)
            .save(options: JobOptions(outputCheck: check))
        XCTAssertEqual(result.status, .failed)
        XCTAssertEqual(result.failureReason, "could not check the committed outputs: store is down")
    }

    func testOutputsLocalToALostExecutorAreRecomputed() {
        let backend = ManualBackend(executors: [ExecutorInfo(id: "e1", host: "h1", cores: 1),
                                                ExecutorInfo(id: "e2", host: "h2", cores: 1)])
        let scheduler = TaskScheduler(backend: backend)
        let alive = Locked<Set<ExecutorID>>(["e1", "e2"])
        let writer = Locked<[Int: ExecutorID]>([:])
        let check = OutputCheck(skipCommitted: false, outputsAreExecutorLocal: true) { partition in
            writer.value[partition].map { alive.value.contains($0) } ?? false
        }
        let handle = scheduler.submit(job(partitions: 2, options: JobOptions(outputCheck: check)))
        let first = backend.waitForLaunches(2)
        let onE1 = first.first { $0.executor == "e1" }!
        writer.mutate { $0[onE1.spec.id.partition] = "e1" }
        backend.succeed(onE1.spec, on: "e1", records: ["on e1"])
        alive.mutate { _ = $0.remove("e1") }
        backend.events.executorLost("e1", reason: "node rebooted")

        let onE2 = first.first { $0.executor == "e2" }!
        writer.mutate { $0[onE2.spec.id.partition] = "e2" }
        backend.succeed(onE2.spec, on: "e2", records: ["on e2"])
        let rerun = backend.waitForLaunches(3)[2]
        XCTAssertEqual(rerun.spec.id.partition, onE1.spec.id.partition)
        XCTAssertEqual(rerun.executor, "e2")
        writer.mutate { $0[rerun.spec.id.partition] = "e2" }
        backend.succeed(rerun.spec, on: "e2", records: ["again on e2"])

        let result = handle.wait()
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(decodeStrings(result.partitions[onE1.spec.id.partition].records), ["again on e2"])
        XCTAssertEqual(result.partitions[onE1.spec.id.partition].recomputations, 1)
    }

    func testPullSchedulingGivesTheFastExecutorMoreTasks() throws {
        let registry = OperatorRegistry()
        registry.register("test.identity", input: String.self, output: String.self) { inputs, _ in inputs }
        let backend = SimulatedBackend(registry: registry, executors: [
            .init(id: "slow", delay: 0.05), .init(id: "fast", delay: 0),
        ])
        let context = EngineContext(backend: backend, registry: registry)
        defer { context.stop() }
        let result = try context.dataset((0..<40).map { "img\($0)" })
            .mapPartitions(named: "test.identity", as: String.self).save()
        XCTAssertEqual(result.status, .succeeded)
        let fast = result.partitions.filter { $0.executor == "fast" }.count
        let slow = result.partitions.filter { $0.executor == "slow" }.count
        XCTAssertEqual(fast + slow, 40)
        XCTAssertGreaterThan(fast, slow, "fast \(fast), slow \(slow)")
        print("balance: fast executor ran \(fast) tasks, slow executor ran \(slow)")
    }

    func testExecutorThatKeepsFailingIsExcluded() throws {
        let registry = OperatorRegistry()
        registry.register("test.identity", input: String.self, output: String.self) { inputs, _ in inputs }
        let backend = SimulatedBackend(registry: registry, executors: [
            .init(id: "broken", failsEveryTask: true), .init(id: "healthy", delay: 0.005),
        ])
        let context = EngineContext(backend: backend, registry: registry, settings: settings {
            $0.excludeOnFailure = true
            $0.excludeThreshold = 2
        })
        defer { context.stop() }
        let listener = RecordingListener()
        let result = try context.dataset((0..<20).map { "img\($0)" })
            .mapPartitions(named: "test.identity", as: String.self).save(options: JobOptions(listener: listener))

        XCTAssertEqual(result.status, .succeeded)
        XCTAssertTrue(result.partitions.allSatisfy { $0.executor == "healthy" })
        XCTAssertEqual(listener.excluded.value, ["broken"])
        let brokenRuns = listener.started.value.filter { $0.executor == "broken" }.count
        XCTAssertEqual(brokenRuns, 2, "excluded after its second failure in a row")
        let reasons = result.partitions.flatMap(\.failureReasons)
        XCTAssertEqual(reasons.count, 2)
        XCTAssertTrue(reasons.allSatisfy { $0.contains("on broken: disk full on broken") }, "\(reasons)")
    }

    func testCancellingAJobStopsRunningAttemptsAndLaunchesNothingMore() throws {
        let registry = OperatorRegistry()
        let invocations = Locked(0)
        registry.register("test.until-cancelled", input: String.self, output: String.self) { inputs, context in
            invocations.mutate { $0 += 1 }
            while !context.isCancelled { usleep(1000) }
            try context.checkCancellation()
            return inputs
        }
        let context = EngineContext(backend: LocalBackend(registry: registry, slots: 2), registry: registry)
        defer { context.stop() }
        let listener = RecordingListener()
        let twoRunning = DispatchSemaphore(value: 0)
        listener.onTaskStarted = { _ in if listener.started.value.count == 2 { twoRunning.signal() } }
        let handle = try context.dataset((0..<10).map { "img\($0)" })
            .mapPartitions(named: "test.until-cancelled", as: String.self)
            .submit(options: JobOptions(listener: listener))
        XCTAssertEqual(twoRunning.wait(timeout: .now() + 30), .success)
        handle.cancel()
        let result = handle.wait()

        XCTAssertEqual(result.status, .cancelled)
        XCTAssertTrue(result.partitions.allSatisfy { $0.status == .cancelled })
        // The cancelled attempts end on their own; the freed slots get nothing new.
        let deadline = Date(timeIntervalSinceNow: 30)
        while context.scheduler.executorSnapshot().first?.freeSlots != 2 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(context.scheduler.executorSnapshot().first?.freeSlots, 2)
        XCTAssertEqual(listener.started.value.count, 2)
        XCTAssertLessThanOrEqual(invocations.value, 2, "an attempt cancelled before its step began never runs it")
    }
}
