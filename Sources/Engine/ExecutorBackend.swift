import Foundation

/// An executor as the scheduler sees it: where it runs and how many tasks it may run at once.
public struct ExecutorInfo: Codable, Sendable, Hashable {
    public var id: ExecutorID
    public var host: String
    public var cores: Int
    /// Tasks it holds beyond `cores`, queued to start the moment a slot frees (no round trip to
    /// the master); nil or 0: none. The scheduler may launch up to `cores + queuedTasks` on it.
    public var queuedTasks: Int?
    /// Path prefixes on this executor's own disk (not shared), for locality preferences.
    public var localPaths: [String]
    /// What the executor declares about itself from its own configuration (e.g. the commands
    /// it lets `--pipe` run), so a driver can check a job against it before launching tasks.
    public var attributes: [String: String]?

    public init(id: ExecutorID, host: String, cores: Int, localPaths: [String] = [],
                attributes: [String: String]? = nil, queuedTasks: Int? = nil) {
        self.id = id
        self.queuedTasks = queuedTasks
        self.host = host
        self.cores = cores
        self.localPaths = localPaths
        self.attributes = attributes
    }
}

/// What a backend reports to the scheduler. Calls may arrive on any thread;
/// the scheduler serializes them itself.
public protocol BackendEvents: AnyObject, Sendable {
    /// A new executor with free slots: the scheduler may launch up to `info.cores` (+ `queuedTasks`) tasks on it.
    func executorAdded(_ info: ExecutorInfo)
    /// The executor is gone (process died, heartbeats missed, link cut). Its running
    /// attempts are lost and will be rescheduled; any result from them that arrives later is discarded.
    func executorLost(_ id: ExecutorID, reason: String)
    /// An attempt finished (success or failure); its slot is free again.
    func taskFinished(_ result: TaskResult)
    /// Several attempts finished together (one frame of results from an executor): the same as
    /// `taskFinished` for each in order, but a scheduler may handle them in one pass.
    func tasksFinished(_ results: [TaskResult])
    /// The executor is leaving (SIGTERM, a spot notice): launch nothing more on it. What it
    /// runs may finish; if it leaves first, those attempts are rescheduled and never counted.
    func executorDraining(_ id: ExecutorID)
    /// The executor handed back attempts it had queued and never started (it is draining, or the
    /// scheduler asked them back with `ExecutorBackend.withdraw`): they are rescheduled elsewhere
    /// and never counted as failures.
    func tasksReturned(_ ids: [TaskAttemptID], by executor: ExecutorID)
}

extension BackendEvents {
    public func executorDraining(_ id: ExecutorID) {}
    public func tasksReturned(_ ids: [TaskAttemptID], by executor: ExecutorID) {}
    public func tasksFinished(_ results: [TaskResult]) { results.forEach(taskFinished) }
}

/// How the scheduler reaches executors: in-process threads (LocalBackend) or
/// executor daemons over TCP (Cluster). The scheduler is the same for both.
///
/// Scheduling is pull-based: the scheduler tracks each executor's free slots and
/// launches the next pending task as soon as one frees, so fast executors take more work.
public protocol ExecutorBackend: AnyObject, Sendable {
    /// Begin delivering events. Executors already known are reported through `executorAdded`.
    func start(events: BackendEvents)
    /// Run `task` on `executor`, which the scheduler knows has a free slot.
    func launch(_ task: TaskSpec, on executor: ExecutorID)
    /// The launches of one scheduling pass, in order: the same as `launch` for each, but a
    /// backend may send an executor all of its tasks at once (Cluster: one frame).
    func launch(_ tasks: [TaskLaunch])
    /// Best effort: stop an attempt that is no longer needed (its twin finished, the job was cancelled).
    func cancel(_ id: TaskAttemptID, on executor: ExecutorID)
    /// The job is over; release what the backend holds for it.
    func stop()
    /// The executors known right now, for checks before a job (events report them later, on
    /// their own queue). Nil when the backend cannot say.
    func knownExecutors() -> [ExecutorInfo]?
    /// Whether the scheduler may take back an attempt waiting in one executor's queue, at a job's tail,
    /// to run it on an idle core instead. True where the executors and their queues are this scheduler's
    /// alone (local mode's workers); false where other jobs share them (a master's executors).
    var rebalancesQueuedAttempts: Bool { get }
    /// Whether the scheduler's view of when a queued task starts (when the one ahead of it ends) is
    /// exact: every result reaches it before the executor's loss, so an attempt it still sees queued
    /// at a loss never ran and is not charged with it. True for local mode's workers (each writes
    /// its result to a pipe, which outlives it, before it starts the next task); false over TCP,
    /// where a dying executor's last results may never arrive, so every attempt it held counts.
    var observesQueuedStarts: Bool { get }
    /// Asks `executor` to hand back those of `ids` still waiting in its queue, unstarted. It answers with
    /// `BackendEvents.tasksReturned` (those it handed back, perhaps none). Used only where `rebalancesQueuedAttempts`.
    func withdraw(_ ids: [TaskAttemptID], on executor: ExecutorID)
}

extension ExecutorBackend {
    public func knownExecutors() -> [ExecutorInfo]? { nil }
    public var rebalancesQueuedAttempts: Bool { false }
    public var observesQueuedStarts: Bool { false }
    public func withdraw(_ ids: [TaskAttemptID], on executor: ExecutorID) {}
    public func launch(_ tasks: [TaskLaunch]) {
        for launch in tasks { self.launch(launch.task, on: launch.executor) }
    }
}

/// One task bound for one executor.
public struct TaskLaunch: Sendable {
    public var task: TaskSpec
    public var executor: ExecutorID

    public init(task: TaskSpec, executor: ExecutorID) {
        self.task = task
        self.executor = executor
    }
}
