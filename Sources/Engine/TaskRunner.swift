import Foundation

/// Runs one task attempt in this process: looks up each step's operator in the registry,
/// applies the chain to the partition's inputs, and encodes the last step's records.
/// Errors thrown by operators become `.failure` with their message; nothing escapes.
///
/// Used by LocalBackend's slots and by the Cluster executor daemon alike.
/// @unchecked: `lock` guards `cancelled`.
public final class TaskRunner: @unchecked Sendable {
    public let registry: OperatorRegistry
    private var cancelled: Set<TaskAttemptID> = []
    private let lock = NSLock()

    public init(registry: OperatorRegistry) {
        self.registry = registry
    }

    /// Runs `spec` to completion on the calling thread.
    public func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult {
        let start = DispatchTime.now().uptimeNanoseconds
        let additions = PartitionAdditions()
        let outcome = computeOutcome(spec, executor: executor, additions: additions)
        lock.lock()
        cancelled.remove(spec.id)
        lock.unlock()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var result = TaskResult(id: spec.id, executor: executor, outcome: outcome, duration: seconds)
        if case .success = outcome { result.addedPartitions = additions.added }
        return result
    }

    /// Asks a running (or about to run) attempt to stop. Operators see it through
    /// `TaskContext.isCancelled`; the runner also checks between steps.
    public func cancel(_ id: TaskAttemptID) {
        lock.lock()
        cancelled.insert(id)
        lock.unlock()
    }

    public func isCancelled(_ id: TaskAttemptID) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled.contains(id)
    }

    private func computeOutcome(_ spec: TaskSpec, executor: ExecutorID, additions: PartitionAdditions) -> TaskOutcome {
        let id = spec.id
        var context = TaskContext(attemptID: id, executor: executor, settings: spec.settings,
                                  isSpeculative: spec.speculative,
                                  isCancelled: { [weak self] in self?.isCancelled(id) ?? true }, additions: additions)
        context.maxAddedPartitions = spec.maxAddedPartitions ?? 0
        do {
            var records: [Any] = spec.inputs
            var encode: ([Any]) throws -> [Data] = { records in
                try records.map { try JSONEncoder().encode($0 as! String) }
            }
            for step in spec.steps {
                try context.checkCancellation()
                let runner = try registry.runner(named: step.name)
                records = try runner.apply(records, parameters: step.parameters, context: context)
                encode = runner.encode
            }
            try context.checkCancellation()
            return .success(records: try encode(records))
        } catch {
            return .failure(message: "\(error)")
        }
    }
}
