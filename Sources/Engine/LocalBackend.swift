import Foundation

/// local[N]: one in-process executor with N slots, each task run by a `TaskRunner` on its
/// own thread. The scheduler never launches more than N at once, so N threads suffice.
/// @unchecked: `lock` guards `events`.
public final class LocalBackend: ExecutorBackend, @unchecked Sendable {
    public static let executorID: ExecutorID = "local"

    public let slots: Int
    private let runner: TaskRunner
    private let workers = DispatchQueue(label: "sextant.engine.local", qos: .userInitiated, attributes: .concurrent)
    private let lock = NSLock()
    private var events: BackendEvents?

    /// `slots` nil means one per core (local[*]).
    public init(registry: OperatorRegistry, slots: Int? = nil) {
        self.slots = max(1, slots ?? ProcessInfo.processInfo.activeProcessorCount)
        self.runner = TaskRunner(registry: registry)
    }

    /// Reads a Spark-style local master: `local` is one slot, `local[N]` N slots,
    /// `local[*]` one per core (nil). Anything else is not a local master (an error).
    public static func slots(forMaster master: String) throws -> Int? {
        if master == "local" { return 1 }
        guard master.hasPrefix("local["), master.hasSuffix("]") else {
            throw ConfigurationError.badValue(key: "master", value: master, expected: "local, local[N] or local[*]")
        }
        let inside = master.dropFirst("local[".count).dropLast()
        if inside == "*" { return nil }
        guard let slots = Int(inside), slots >= 1 else {
            throw ConfigurationError.badValue(key: "master", value: master, expected: "local, local[N] or local[*]")
        }
        return slots
    }

    public func start(events: BackendEvents) {
        lock.lock()
        self.events = events
        lock.unlock()
        events.executorAdded(ExecutorInfo(id: Self.executorID, host: ProcessInfo.processInfo.hostName,
                                          cores: slots))
    }

    public func launch(_ task: TaskSpec, on executor: ExecutorID) {
        workers.async { [runner] in
            let result = runner.run(task, executor: executor)
            self.currentEvents?.taskFinished(result)
        }
    }

    public func cancel(_ id: TaskAttemptID, on executor: ExecutorID) {
        runner.cancel(id)
    }

    public func stop() {
        lock.lock()
        events = nil
        lock.unlock()
    }

    private var currentEvents: BackendEvents? {
        lock.lock(); defer { lock.unlock() }
        return events
    }
}
