import Foundation
import TestSupport
import XCTest
@testable import Engine

/// Sums the counts of one word.
struct SumCounts: ReduceOperator {
    typealias Parameters = NoParameters
    typealias Key = String
    typealias Value = Int
    static let name = "test.sum-counts"
    init(parameters: NoParameters) {}
    func reduce(_ first: Int, _ second: Int, context: TaskContext) -> Int { first + second }
}

/// Sums integers keyed by integers (the second shuffle of the histogram job).
struct SumByNumber: ReduceOperator {
    typealias Parameters = NoParameters
    typealias Key = Int
    typealias Value = Int
    static let name = "test.sum-by-number"
    init(parameters: NoParameters) {}
    func reduce(_ first: Int, _ second: Int, context: TaskContext) -> Int { first + second }
}

/// A registry with the wide jobs' operators. `calls` counts, per map partition, how often the
/// first map step ran: what a recompute costs.
func shuffleRegistry(calls: Locked<[Int: Int]> = Locked([:])) -> OperatorRegistry {
    let registry = OperatorRegistry()
    registry.register(SumCounts.self)
    registry.register(SumByNumber.self)
    registry.register("test.words", input: String.self, output: KeyValue<String, Int>.self) { lines, context in
        calls.mutate { $0[context.attemptID.partition, default: 0] += 1 }
        return lines.flatMap { $0.split(separator: " ").map { KeyValue(String($0), 1) } }
    }
    registry.register("test.count-to-number", input: KeyValue<String, Int>.self,
                      output: KeyValue<Int, Int>.self) { pairs, _ in
        pairs.map { KeyValue($0.value, 1) }
    }
    registry.register("test.fails-on-poison", input: String.self, output: KeyValue<String, Int>.self) { lines, _ in
        if lines.contains("poison") { throw TestFailure("cannot parse line 'poison'") }
        return lines.map { KeyValue($0, 1) }
    }
    return registry
}

/// Lines of words with known counts: word w<i> appears i+1 times, spread over the lines.
let corpus: [String] = (0..<24).map { line in
    (0..<6).map { "w\(($0 * 7 + line * 5) % 13)" }.joined(separator: " ")
}

var corpusCounts: [String: Int] {
    var counts: [String: Int] = [:]
    for line in corpus { for word in line.split(separator: " ") { counts[String(word), default: 0] += 1 } }
    return counts
}

/// Executors in this process with their own slots, real TaskRunners, and a way to lose one
/// (its running attempts never report; the scheduler hears it is gone).
final class LosableBackend: ExecutorBackend, @unchecked Sendable {
    private let ids: [ExecutorID]
    private let runner: TaskRunner
    private let workers = DispatchQueue(label: "test.losable", attributes: .concurrent)
    private let events = Locked<BackendEvents?>(nil)
    private let lost = Locked<Set<ExecutorID>>([])

    init(registry: OperatorRegistry, executors: [ExecutorID]) {
        ids = executors
        runner = TaskRunner(registry: registry)
    }

    func start(events: BackendEvents) {
        self.events.value = events
        for id in ids { events.executorAdded(ExecutorInfo(id: id, host: "sim", cores: 1)) }
    }

    /// Bytes of step parameters of every task launched, by job id.
    let parameterBytes = Locked<[String: [Int]]>([:])

    func launch(_ task: TaskSpec, on executor: ExecutorID) {
        parameterBytes.mutate { $0[task.id.jobID, default: []].append(task.steps.reduce(0) { $0 + $1.parameters.count }) }
        workers.async { [runner, events, lost] in
            let result = runner.run(task, executor: executor)
            if !lost.value.contains(executor) { events.value?.taskFinished(result) }
        }
    }

    func lose(_ executor: ExecutorID) {
        lost.mutate { _ = $0.insert(executor) }
        events.value?.executorLost(executor, reason: "killed by the test")
    }

    func cancel(_ id: TaskAttemptID, on executor: ExecutorID) { runner.cancel(id) }
    func stop() { events.value = nil }
}

/// Map output files (`map-M-ATTEMPT.data`) of one shuffle under a store's directory.
func mapOutputFiles(under root: URL, shuffleID: String) -> [URL] {
    let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
        .compactMap { $0 as? URL } ?? []
    return files.filter { $0.path.contains("/\(shuffleID)/map-") && $0.pathExtension == "data" }
        .sorted { $0.path < $1.path }
}

func mapPartition(ofFile url: URL) -> Int {
    Int(url.lastPathComponent.dropFirst("map-".count).prefix { $0 != "-" })!
}

/// Calls `body` once, the first time a task of a stage whose job id contains `stageTag` starts
/// (on the scheduler's queue, before the task runs).
final class StageStartHook: JobListener, @unchecked Sendable {
    private let stageTag: String
    private let fired = Locked(false)
    private let body: () -> Void

    init(stageTag: String, _ body: @escaping () -> Void) {
        self.stageTag = stageTag
        self.body = body
    }

    func taskStarted(_ event: TaskStartEvent) {
        guard event.attempt.jobID.contains(stageTag) else { return }
        if fired.mutate({ done -> Bool in defer { done = true }; return !done }) { body() }
    }
}
