import Engine
import Foundation
import Pipeline
import Storage
import TestSupport
import XCTest

private struct AddCounts: ReduceOperator {
    typealias Parameters = NoParameters
    typealias Key = String
    typealias Value = Int
    static let name = "test.add-counts"
    init(parameters: NoParameters) {}
    func reduce(_ first: Int, _ second: Int, context: TaskContext) -> Int { first + second }
}

/// Calls `body` once, when the first task of the first reduce stage attempt starts.
private final class ReduceStartHook: JobListener, @unchecked Sendable {
    private let fired = Locked(false)
    private let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    func taskStarted(_ event: TaskStartEvent) {
        guard event.attempt.jobID.hasSuffix(".s1.1") else { return }
        if fired.mutate({ done -> Bool in defer { done = true }; return !done }) { body() }
    }
}

/// The store-backed shuffle over an ObjectStore: a directory, and S3 when the test server runs.
final class ShuffleOnObjectStoreTests: XCTestCase {
    func testAWordCountShufflesThroughALocalStoreAndRecomputesADeletedOutput() throws {
        let root = try TestSupport.makeTemporaryDirectory("shuffle-objectstore")
        defer { try? FileManager.default.removeItem(at: root) }
        try checkShuffle(on: StoreFactory.makeStore(for: root.path))
    }

    func testAWordCountShufflesThroughS3AndRecomputesADeletedOutput() throws {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["SEXTANT_TEST_S3_ENDPOINT"] else {
            throw XCTSkip("SEXTANT_TEST_S3_ENDPOINT is unset: run scripts/test, or `source scripts/s3-server; start_s3_server DIR`")
        }
        let bucket = env["SEXTANT_TEST_S3_BUCKET"] ?? "sextant-test"
        let store = try StoreFactory.makeStore(
            for: "s3://\(bucket)/shuffle-\(UUID().uuidString.prefix(8))",
            settings: ["sextant.s3.endpoint": endpoint, "sextant.s3.region": "us-east-1",
                       "sextant.s3.accessKey": env["SEXTANT_TEST_S3_ACCESS_KEY"] ?? "",
                       "sextant.s3.secretKey": env["SEXTANT_TEST_S3_SECRET_KEY"] ?? ""],
            environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"])
        try checkShuffle(on: store)
    }

    private func checkShuffle(on objects: ObjectStore) throws {
        let registry = OperatorRegistry()
        registry.register(AddCounts.self)
        registry.register("test.split-words", input: String.self, output: KeyValue<String, Int>.self) { lines, _ in
            lines.flatMap { $0.split(separator: " ").map { KeyValue(String($0), 1) } }
        }
        var settings = EngineSettings()
        settings.localSlots = 2
        let context = EngineContext.local(registry: registry, settings: settings,
                                          shuffleStore: ShuffleStores.shared(ObjectStoreShuffleBlobs(store: objects)))
        defer { context.stop() }
        let lines = (0..<12).map { "a b\($0 % 3) c\($0 % 4)" }
        let counts = try context.dataset(lines, partitioning: .count(4))
            .mapPartitions(named: "test.split-words", as: KeyValue<String, Int>.self)
            .reduceByKey(AddCounts.self, NoParameters(), partitioner: .hash(partitions: 3))
        // When the reducers start, map output 2 disappears from the store.
        context.scheduler.addListener(ReduceStartHook {
            let outputs = (try? objects.listAll(prefix: "")) ?? []
            for object in outputs where object.key.contains("/map-2-") { try? objects.delete(object.key) }
        })
        let result = counts.save()

        XCTAssertEqual(result.status, .succeeded)
        let pairs = try result.records(as: KeyValue<String, Int>.self)
        var expected: [String: Int] = [:]
        for line in lines { for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 } }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) }), expected)
        let shuffleID = try XCTUnwrap(result.stages?.first?.shuffleID)
        XCTAssertEqual(result.recomputedMapPartitions(of: shuffleID), [2])
        let stored = try objects.listAll(prefix: "").map(\.key)
        XCTAssertEqual(stored.filter { $0.contains("/map-") }.count, 4, "map 2 deleted, then written again by its recompute")
        XCTAssertTrue(stored.contains { $0.hasPrefix("_published/") }, "the locations table")
    }
}
