import Foundation
import TestSupport
import XCTest
@testable import Engine

final class ShuffleRecoveryTests: XCTestCase {
    private func wordCount(_ context: EngineContext, maps: Int, reduces: Int) throws -> Dataset<KeyValue<String, Int>> {
        try context.dataset(corpus, partitioning: .count(maps))
            .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: reduces))
    }

    private func assertCorrectCounts(_ result: JobResult, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(result.status, .succeeded, file: file, line: line)
        let pairs = try result.records(as: KeyValue<String, Int>.self)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) }), corpusCounts,
                       file: file, line: line)
    }

    func testDeletedMapOutputsAreRecomputedAloneThenTheReduceStageRetries() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-deleted")
        defer { try? FileManager.default.removeItem(at: root) }
        let calls = Locked<[Int: Int]>([:])
        let context = EngineContext.local(registry: shuffleRegistry(calls: calls), settings: settings { $0.localSlots = 2 },
                                          shuffleStore: ShuffleStores.executorLocal(directory: root))
        defer { context.stop() }
        let counts = try wordCount(context, maps: 8, reduces: 4)
        let shuffleID = counts.source.shuffle!.id
        let deleted = Locked<[Int]>([])
        // When the reduce stage starts, map outputs 1, 4 and 6 vanish (a disk wiped, a file deleted).
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.1") {
            for file in mapOutputFiles(under: root, shuffleID: shuffleID) where [1, 4, 6].contains(mapPartition(ofFile: file)) {
                try! FileManager.default.removeItem(at: file)
                deleted.mutate { $0.append(mapPartition(ofFile: file)) }
            }
        })
        let result = counts.save()

        try assertCorrectCounts(result)
        XCTAssertEqual(deleted.value.sorted(), [1, 4, 6])
        XCTAssertEqual(result.recomputedMapPartitions(of: shuffleID), [1, 4, 6], "only the lost map outputs")
        XCTAssertEqual(calls.value, [0: 1, 1: 2, 2: 1, 3: 1, 4: 2, 5: 1, 6: 2, 7: 1])
        let stages = try XCTUnwrap(result.stages)
        XCTAssertEqual(stages.map { "s\($0.stage).\($0.attempt)" }, ["s0.1", "s1.1", "s0.2", "s1.2"])
        XCTAssertEqual(Set(stages[1].fetchFailures.map(\.mapPartition)), [1, 4, 6], "the reducer named every missing output")
        let failedFirst = Set(0..<4).subtracting(stages[1].computed)
        XCTAssertFalse(failedFirst.isEmpty)
        XCTAssertEqual(Set(stages[3].computed), failedFirst, "the retry runs only the reducers that failed")
        XCTAssertEqual(result.partitions.map(\.status), Array(repeating: .succeeded, count: 4))
    }

    func testLosingTheExecutorThatHeldMapOutputsRecomputesExactlyItsMapPartitions() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-lost")
        defer { try? FileManager.default.removeItem(at: root) }
        let calls = Locked<[Int: Int]>([:])
        let registry = shuffleRegistry(calls: calls)
        let backend = LosableBackend(registry: registry, executors: ["e1", "e2"])
        let context = EngineContext(backend: backend, registry: registry,
                                    shuffleStore: ShuffleStores.executorLocal(directory: root))
        defer { context.stop() }
        let counts = try wordCount(context, maps: 8, reduces: 3)
        let shuffleID = counts.source.shuffle!.id
        let onE1 = Locked<[Int]>([])
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.1") {
            let held = (0..<8).filter { context.dagScheduler.tracker.output(shuffle: shuffleID, mapPartition: $0)?.executor == "e1" }
            onE1.value = held
            // The process dies and its disk goes with it.
            try! FileManager.default.removeItem(at: root.appendingPathComponent("e1"))
            backend.lose("e1")
        })
        let result = counts.save()

        try assertCorrectCounts(result)
        XCTAssertFalse(onE1.value.isEmpty, "pull scheduling gave e1 some map partitions")
        XCTAssertLessThan(onE1.value.count, 8)
        XCTAssertEqual(result.recomputedMapPartitions(of: shuffleID), onE1.value)
        for partition in 0..<8 {
            XCTAssertEqual(calls.value[partition], onE1.value.contains(partition) ? 2 : 1, "map partition \(partition)")
        }
        XCTAssertTrue(result.partitions.allSatisfy { $0.executor == "e2" })
    }

    func testReduceTasksCarryNoPerMapLocations() throws {
        let registry = shuffleRegistry()
        let backend = LosableBackend(registry: registry, executors: ["e1", "e2"])
        let context = EngineContext(backend: backend, registry: registry)
        defer { context.stop() }
        let lines = (0..<300).map { "w\($0 % 17) w\($0 % 5)" }
        let result = try context.dataset(lines)
            .mapPartitions(named: "test.words", as: KeyValue<String, Int>.self)
            .reduceByKey(SumCounts.self, NoParameters(), partitioner: .hash(partitions: 3)).save()
        XCTAssertEqual(result.status, .succeeded)
        XCTAssertEqual(try result.records(as: KeyValue<String, Int>.self).reduce(0) { $0 + $1.value }, 600)
        let reduceJob = try XCTUnwrap(result.stages?.last?.jobID)
        let sizes = try XCTUnwrap(backend.parameterBytes.value[reduceJob])
        XCTAssertEqual(sizes.count, 3)
        XCTAssertTrue(sizes.allSatisfy { $0 < 400 }, "300 map outputs, yet \(sizes) bytes: the locations are published once")
    }

    func testFetchFailuresDoNotExcludeTheReducersExecutor() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-exclusion")
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = shuffleRegistry()
        let context = EngineContext(backend: LosableBackend(registry: registry, executors: ["e1", "e2"]),
                                    registry: registry, settings: settings {
                                        $0.excludeOnFailure = true
                                        $0.excludeThreshold = 1
                                    }, shuffleStore: ShuffleStores.executorLocal(directory: root))
        defer { context.stop() }
        let counts = try wordCount(context, maps: 3, reduces: 3)
        let shuffleID = counts.source.shuffle!.id
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.1") {
            for file in mapOutputFiles(under: root, shuffleID: shuffleID) { try! FileManager.default.removeItem(at: file) }
        })
        let listener = RecordingListener()
        try assertCorrectCounts(counts.save(options: JobOptions(listener: listener)))
        XCTAssertEqual(listener.excluded.value, [], "no executor is excluded for outputs lost elsewhere")
        XCTAssertEqual(counts.save().recomputedMapPartitions(of: shuffleID), [], "outputs reused")
    }

    func testOutputsInASharedStoreSurviveTheirExecutor() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-shared")
        defer { try? FileManager.default.removeItem(at: root) }
        let calls = Locked<[Int: Int]>([:])
        let registry = shuffleRegistry(calls: calls)
        let backend = LosableBackend(registry: registry, executors: ["e1", "e2"])
        let context = EngineContext(backend: backend, registry: registry,
                                    shuffleStore: ShuffleStores.shared(directory: root))
        defer { context.stop() }
        let counts = try wordCount(context, maps: 6, reduces: 2)
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.1") { backend.lose("e1") })
        let result = counts.save()

        try assertCorrectCounts(result)
        XCTAssertEqual(result.recomputedMapPartitions(of: counts.source.shuffle!.id), [])
        XCTAssertEqual(calls.value.values.sorted(), Array(repeating: 1, count: 6), "nothing ran twice")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("e1").path),
                       "shared outputs are not kept per executor")
    }

    func testAStaleAttemptsLateOutputIsFencedOut() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-stale")
        defer { try? FileManager.default.removeItem(at: root) }
        let context = EngineContext.local(registry: shuffleRegistry(), settings: settings { $0.localSlots = 2 },
                                          shuffleStore: ShuffleStores.executorLocal(directory: root))
        defer { context.stop() }
        let counts = try wordCount(context, maps: 4, reduces: 2)
        let shuffleID = counts.source.shuffle!.id
        let tracker = context.dagScheduler.tracker
        let stale = Locked<(url: URL, attempt: String)?>(nil)
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.1") {
            let file = mapOutputFiles(under: root, shuffleID: shuffleID).first { mapPartition(ofFile: $0) == 2 }!
            stale.value = (file, tracker.output(shuffle: shuffleID, mapPartition: 2)!.attempt)
            try! FileManager.default.removeItem(at: file)
        })
        // Before the reducers retry, the first attempt of map 2 "comes back" and writes garbage
        // where its output was: a zombie. The retry must read the recomputed attempt only.
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.2") {
            try! Data("not a map output".utf8).write(to: stale.value!.url)
        })
        let result = counts.save()

        try assertCorrectCounts(result)
        XCTAssertEqual(result.recomputedMapPartitions(of: shuffleID), [2])
        let now = try XCTUnwrap(tracker.output(shuffle: shuffleID, mapPartition: 2))
        XCTAssertNotEqual(now.attempt, stale.value!.attempt)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stale.value!.url.path), "the zombie's file is there, unread")
    }

    func testTheTrackerKeepsTheRegisteredAttemptAgainstLateAndStaleReports() {
        let tracker = MapOutputTracker()
        tracker.register(shuffle: "s", mapPartitions: 2)
        let first = MapOutputTracker.Output(executor: "e1", attempt: "j.s0.1.a0", records: 3, bytes: 30)
        let twin = MapOutputTracker.Output(executor: "e2", attempt: "j.s0.1.a4", records: 3, bytes: 30)
        XCTAssertTrue(tracker.add(shuffle: "s", mapPartition: 0, output: first))
        XCTAssertFalse(tracker.add(shuffle: "s", mapPartition: 0, output: twin), "a late twin does not replace it")
        XCTAssertEqual(tracker.missing(shuffle: "s"), [1])
        XCTAssertNil(tracker.locations(shuffle: "s"), "no locations while a map output is missing")
        XCTAssertFalse(tracker.invalidate(MapOutputID(shuffleID: "s", mapPartition: 0, attempt: "j.s0.0.a9")),
                       "a fetch failure about another attempt leaves the registered one")
        XCTAssertEqual(tracker.output(shuffle: "s", mapPartition: 0), first)
        XCTAssertTrue(tracker.invalidate(MapOutputID(shuffleID: "s", mapPartition: 0, attempt: first.attempt)))
        XCTAssertTrue(tracker.add(shuffle: "s", mapPartition: 0, output: twin))
        XCTAssertTrue(tracker.add(shuffle: "s", mapPartition: 1, output: first))
        XCTAssertEqual(tracker.locations(shuffle: "s")?.map(\.executor), ["e2", "e1"])
        XCTAssertEqual(tracker.invalidateAll(on: "e1"), 1)
        XCTAssertEqual(tracker.missing(shuffle: "s"), [1])
    }

    func testAFetchFailureInAMiddleStageRecomputesTheFirstShufflesLostOutput() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-middle")
        defer { try? FileManager.default.removeItem(at: root) }
        let calls = Locked<[Int: Int]>([:])
        let context = EngineContext.local(registry: shuffleRegistry(calls: calls), settings: settings { $0.localSlots = 2 },
                                          shuffleStore: ShuffleStores.executorLocal(directory: root))
        defer { context.stop() }
        let counts = try wordCount(context, maps: 5, reduces: 3)
        let histogram = try counts.mapPartitions(named: "test.count-to-number", as: KeyValue<Int, Int>.self)
            .reduceByKey(SumByNumber.self, NoParameters(), partitioner: .hash(partitions: 2))
        let first = counts.source.shuffle!.id
        context.scheduler.addListener(StageStartHook(stageTag: ".s1.1") {
            for file in mapOutputFiles(under: root, shuffleID: first) where mapPartition(ofFile: file) == 3 {
                try! FileManager.default.removeItem(at: file)
            }
        })
        let result = histogram.save()

        XCTAssertEqual(result.status, .succeeded)
        var expected: [Int: Int] = [:]
        for count in corpusCounts.values { expected[count, default: 0] += 1 }
        let pairs = try result.records(as: KeyValue<Int, Int>.self)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) }), expected)
        XCTAssertEqual(result.recomputedMapPartitions(of: first), [3])
        XCTAssertEqual(calls.value, [0: 1, 1: 1, 2: 1, 3: 2, 4: 1])
        XCTAssertEqual(result.stages?.map { "s\($0.stage).\($0.attempt)" }, ["s0.1", "s1.1", "s0.2", "s1.2", "s2.1"])
    }

    func testStageAttemptsAreBoundedThenTheJobFailsSayingWhy() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-unreadable")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = UnreadableStore(ShuffleStores.executorLocal(directory: root))
        let context = EngineContext.local(registry: shuffleRegistry(), settings: settings {
            $0.localSlots = 2
            $0.maxStageAttempts = 3
        }, shuffleStore: store)
        defer { context.stop() }
        let result = try wordCount(context, maps: 3, reduces: 2).save()

        XCTAssertEqual(result.status, .failed)
        let reason = result.failureReason ?? ""
        XCTAssertTrue(reason.contains("stage 1 failed 3 consecutive attempts"), reason)
        XCTAssertTrue(reason.contains("sextant.stage.maxConsecutiveAttempts = 3"), reason)
        XCTAssertTrue(reason.contains("the disk is unreadable"), reason)
        XCTAssertEqual(result.stages?.map { "s\($0.stage).\($0.attempt)" },
                       ["s0.1", "s1.1", "s0.2", "s1.2", "s0.3", "s1.3"])
        XCTAssertEqual(store.reads.value, 3 * 2, "one try per reducer and attempt: fetch failures are not retried as tasks")

        XCTAssertEqual(try EngineSettings(Configuration([SchedulerKeys.maxStageAttempts.name: "7"])).maxStageAttempts, 7)
        XCTAssertThrowsError(try EngineSettings(Configuration([SchedulerKeys.maxStageAttempts.name: "0"]))) { error in
            XCTAssertTrue("\(error)".contains("sextant.stage.maxConsecutiveAttempts"), "\(error)")
        }
    }

    func testAnUnwritableShuffleDirectoryFailsTheJobNamingIt() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-unwritable")
        defer { try? FileManager.default.removeItem(at: root) }
        let blocked = root.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocked)
        let context = EngineContext.local(registry: shuffleRegistry(), settings: settings { $0.maxFailures = 1 },
                                          shuffleStore: ShuffleStores.executorLocal(directory: blocked))
        defer { context.stop() }
        let result = try wordCount(context, maps: 2, reduces: 2).save()
        XCTAssertEqual(result.status, .failed)
        XCTAssertTrue(result.failureReason?.contains(blocked.path) == true, result.failureReason ?? "")
    }

    func testTwoContextsSharingARegistryEachUseTheirOwnStore() throws {
        let roots = try (0..<2).map { try TestSupport.makeTemporaryDirectory("shuffle-shared-registry-\($0)") }
        defer { roots.forEach { try? FileManager.default.removeItem(at: $0) } }
        let registry = shuffleRegistry()
        let contexts = roots.map { EngineContext.local(registry: registry, shuffleStore: ShuffleStores.executorLocal(directory: $0)) }
        defer { contexts.forEach { $0.stop() } }
        let counts = try contexts.map { try wordCount($0, maps: 3, reduces: 2) }
        for (index, dataset) in counts.enumerated() {
            try assertCorrectCounts(dataset.save())
            XCTAssertEqual(mapOutputFiles(under: roots[index], shuffleID: dataset.source.shuffle!.id).count, 3)
            XCTAssertEqual(mapOutputFiles(under: roots[1 - index], shuffleID: dataset.source.shuffle!.id).count, 0)
        }
    }

    func testFetchFailureMessagesRoundTrip() {
        let failure = FetchFailure(shuffleID: "shuffle-ab-1",
                                   outputs: [MapOutputID(shuffleID: "shuffle-ab-1", mapPartition: 4, attempt: "job-1.s0.1.a3"),
                                             MapOutputID(shuffleID: "shuffle-ab-1", mapPartition: 9, attempt: "job-1.s0.2.a0")],
                                   reason: "no such file")
        let message = "attempt 7 on e2: \(failure)"
        let parsed = FetchFailure(message: message)
        XCTAssertEqual(parsed?.shuffleID, failure.shuffleID)
        XCTAssertEqual(parsed?.outputs, failure.outputs)
        XCTAssertNil(FetchFailure(message: "cannot read image.fits"))
    }
}

/// Writes through to a real store; every read fails, as on a disk gone bad.
final class UnreadableStore: ShuffleStore, @unchecked Sendable {
    let inner: ShuffleStore
    let reads = Locked(0)

    init(_ inner: ShuffleStore) { self.inner = inner }

    var outputsSurviveExecutorLoss: Bool { inner.outputsSurviveExecutorLoss }

    func writeMapOutput(_ id: MapOutputID, segments: [Data], on executor: ExecutorID) throws {
        try inner.writeMapOutput(id, segments: segments, on: executor)
    }

    func readSegment(_ id: MapOutputID, reducePartition: Int, writtenBy executor: ExecutorID) throws -> Data {
        if id.mapPartition == 0 { reads.mutate { $0 += 1 } }
        throw ShuffleFetchError(output: id, reason: "the disk is unreadable")
    }

    func publish(_ data: Data, as name: String) throws { try inner.publish(data, as: name) }
    func published(_ name: String) throws -> Data { try inner.published(name) }
    func removeShuffle(_ shuffleID: String) { inner.removeShuffle(shuffleID) }
}
