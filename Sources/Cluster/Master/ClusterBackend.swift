import Engine
import Foundation
import Logging

/// Engine's ExecutorBackend over the executors registered with the master: the scheduler
/// launches tasks through it and hears about executors and results from it.
/// Events arrive in order on one serial queue, never while the master holds a lock,
/// so the scheduler may call `launch` from inside them. Only results of attempts this backend
/// launched are delivered, each once: a previous job's stragglers never reach this job's scheduler.
/// Launches go through the master's `SlotArbiter`, which shares the slots among concurrent jobs by pool.
/// @unchecked: `lock` guards `events` and `outstanding`; `counter` guards the static `created`.
public final class ClusterBackend: ExecutorBackend, @unchecked Sendable {
    enum Event {
        case added(ExecutorInfo)
        case lost(ExecutorID, String)
        /// Results from one frame (or one cancelled launch), in order.
        case finished([TaskResult])
        case draining(ExecutorID)
        /// Queued attempts the (draining) executor handed back unstarted.
        case returned([TaskAttemptID], ExecutorID)
    }

    private let registry: ExecutorRegistry
    private let logger: Logger
    /// The fair-scheduler pool this job's launches count against.
    let pool: String
    /// Creation order: FIFO within a pool, and the fair scheduler's tie rule, survive a restart of the job's scheduler.
    let order: Int
    private static let counter = NSLock()
    nonisolated(unsafe) private static var created = 0
    private let queue = DispatchQueue(label: "sextant.cluster.backend-events")
    private let lock = NSLock()
    private var events: BackendEvents?
    /// Attempts launched and not yet finished or lost, by executor.
    private var outstanding: [TaskAttemptID: ExecutorID] = [:]

    init(registry: ExecutorRegistry, logger: Logger, pool: String = PoolDefinition.defaultName) {
        self.registry = registry
        self.logger = logger
        self.pool = pool
        order = Self.counter.withLock {
            Self.created += 1
            return Self.created
        }
    }

    public func knownExecutors() -> [ExecutorInfo]? { registry.executors }

    public func start(events: BackendEvents) {
        lock.lock()
        self.events = events
        lock.unlock()
        registry.slots.join(self, pool: pool, order: order)
        registry.attach(self)
        // Hand the executors already here to `events` before returning, so a snapshot taken
        // right after start (the pipe preflight) sees every one of them.
        queue.sync {}
    }

    public func launch(_ task: TaskSpec, on executor: ExecutorID) {
        launch([TaskLaunch(task: task, executor: executor)])
    }

    public func launch(_ tasks: [TaskLaunch]) {
        lock.lock()
        for launch in tasks { outstanding[launch.task.id] = launch.executor }
        lock.unlock()
        // Waits for a slot its pool's share allows; an executor gone meanwhile is reported lost.
        registry.slots.launch(tasks, for: self)
    }

    public func cancel(_ id: TaskAttemptID, on executor: ExecutorID) {
        registry.slots.cancel(id, on: executor, for: self)
    }

    /// Detaches from the master and cancels the attempts still running for this job.
    public func stop() {
        registry.detach(self)
        lock.lock()
        events = nil
        let leftovers = outstanding
        outstanding = [:]
        lock.unlock()
        for (attempt, executor) in leftovers { cancel(attempt, on: executor) }
        registry.slots.leave(self)
    }

    /// Queues an event for the scheduler. Called by the registry under its lock, which fixes the order.
    func post(_ event: Event) {
        queue.async { [self] in
            lock.lock()
            let events = self.events
            var wanted: [TaskResult] = []
            var returned: [TaskAttemptID] = []
            switch event {
            case .added, .draining: break
            case .returned(let ids, let executor):
                returned = ids.filter { outstanding[$0] == executor }
                returned.forEach { outstanding[$0] = nil }
            case .lost(let id, _): outstanding = outstanding.filter { $0.value != id }
            case .finished(let results):
                for result in results {
                    if outstanding[result.id] == result.executor {
                        outstanding[result.id] = nil
                        wanted.append(result)
                    } else {
                        logger.debug("dropped result of \(result.id): not launched by this job, or already reported")
                    }
                }
            }
            lock.unlock()
            guard let events else { return }
            switch event {
            case .added(let info): events.executorAdded(info)
            case .lost(let id, let reason): events.executorLost(id, reason: reason)
            case .finished:
                if wanted.count == 1 { events.taskFinished(wanted[0]) } else if !wanted.isEmpty { events.tasksFinished(wanted) }
            case .draining(let id): events.executorDraining(id)
            case .returned(_, let executor): if !returned.isEmpty { events.tasksReturned(returned, by: executor) }
            }
        }
    }
}
