import Engine
import Foundation
import Logging

/// Engine's ExecutorBackend over the executors registered with the master: the scheduler
/// launches tasks through it and hears about executors and results from it.
/// Events arrive in order on one serial queue, never while the master holds a lock,
/// so the scheduler may call `launch` from inside them.
public final class ClusterBackend: ExecutorBackend, @unchecked Sendable {
    enum Event {
        case added(ExecutorInfo)
        case lost(ExecutorID, String)
        case finished(TaskResult)
    }

    private let registry: ExecutorRegistry
    private let logger: Logger
    private let queue = DispatchQueue(label: "sextant.cluster.backend-events")
    private let lock = NSLock()
    private var events: BackendEvents?

    init(registry: ExecutorRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    public func start(events: BackendEvents) {
        lock.lock()
        self.events = events
        lock.unlock()
        registry.attach(self)
    }

    public func launch(_ task: TaskSpec, on executor: ExecutorID) {
        if !registry.launch(task, on: executor) {
            // Its executorLost is already on the way; the scheduler will reschedule.
            logger.debug("launch of \(task.id) skipped: executor \(executor) is gone")
        }
    }

    public func cancel(_ id: TaskAttemptID, on executor: ExecutorID) {
        _ = registry.send(.cancelTask(id), to: executor)
    }

    public func stop() {
        registry.detach(self)
        lock.lock()
        events = nil
        lock.unlock()
    }

    /// Queues an event for the scheduler. Called by the registry under its lock, which fixes the order.
    func post(_ event: Event) {
        queue.async { [self] in
            lock.lock()
            let events = self.events
            lock.unlock()
            guard let events else { return }
            switch event {
            case .added(let info): events.executorAdded(info)
            case .lost(let id, let reason): events.executorLost(id, reason: reason)
            case .finished(let result): events.taskFinished(result)
            }
        }
    }
}
