import Foundation

/// The Engine's own configuration keys (declared in `SchedulerKeys`), read once into typed fields.
public struct EngineSettings: Sendable, Equatable {
    /// Attempts a partition may fail before it is reported failed.
    public var maxFailures = SchedulerKeys.maxFailures.defaultValue
    /// Launch copies of stragglers.
    public var speculation = SchedulerKeys.speculation.defaultValue
    /// Fraction of a job's partitions that must have succeeded before speculation starts.
    public var speculationQuantile = SchedulerKeys.speculationQuantile.defaultValue
    /// A running attempt is a straggler when it has run this many times the median success time.
    public var speculationMultiplier = SchedulerKeys.speculationMultiplier.defaultValue
    /// Never speculate an attempt younger than this.
    public var speculationMinRuntime = SchedulerKeys.speculationMinRuntime.defaultValue
    /// How often the scheduler looks for stragglers and expired exclusions.
    public var speculationInterval = SchedulerKeys.speculationInterval.defaultValue
    /// Exclude executors that keep failing tasks.
    public var excludeOnFailure = SchedulerKeys.excludeOnFailure.defaultValue
    /// Failures on one executor, with no success in between, that exclude it.
    public var excludeThreshold = SchedulerKeys.excludeThreshold.defaultValue
    /// How long an excluded executor gets no tasks.
    public var excludeTimeout = SchedulerKeys.excludeTimeout.defaultValue
    /// Stop the job at the first partition that exhausts its attempts.
    public var failFast = SchedulerKeys.failFast.defaultValue
    /// Task slots of the local backend; nil means one per core.
    public var localSlots = SchedulerKeys.localSlots.defaultValue
    /// local[N] runs its tasks in worker processes, so a native crash loses only its worker.
    public var localIsolation = SchedulerKeys.localIsolation.defaultValue
    /// Tasks a local worker process holds beyond the one it runs (its next input fetched meanwhile).
    public var localQueuedTasksPerWorker = SchedulerKeys.localQueuedTasksPerWorker.defaultValue
    /// How long an input on one executor's own disk waits for that executor before another
    /// may take it (delay scheduling). Short, as Kira found: a long wait idles other executors.
    public var localityWait = SchedulerKeys.localityWait.defaultValue
    /// Work kept queued per executor core, sized by the tasks' mean duration (QueueDepth); 0: whole queues.
    public var queuedWork = SchedulerKeys.queuedWork.defaultValue
    /// Attempts of one stage that may end in fetch failures (map outputs lost) before the job fails.
    public var maxStageAttempts = SchedulerKeys.maxStageAttempts.defaultValue

    public init() {}

    public init(_ configuration: Configuration) throws {
        maxFailures = try configuration.value(of: SchedulerKeys.maxFailures)
        speculation = try configuration.value(of: SchedulerKeys.speculation)
        speculationQuantile = try configuration.value(of: SchedulerKeys.speculationQuantile)
        speculationMultiplier = try configuration.value(of: SchedulerKeys.speculationMultiplier)
        speculationMinRuntime = try configuration.value(of: SchedulerKeys.speculationMinRuntime)
        speculationInterval = try configuration.value(of: SchedulerKeys.speculationInterval)
        excludeOnFailure = try configuration.value(of: SchedulerKeys.excludeOnFailure)
        excludeThreshold = try configuration.value(of: SchedulerKeys.excludeThreshold)
        excludeTimeout = try configuration.value(of: SchedulerKeys.excludeTimeout)
        failFast = try configuration.value(of: SchedulerKeys.failFast)
        localityWait = try configuration.value(of: SchedulerKeys.localityWait)
        queuedWork = try configuration.value(of: SchedulerKeys.queuedWork)
        localSlots = try configuration.value(of: SchedulerKeys.localSlots)
        localIsolation = try configuration.value(of: SchedulerKeys.localIsolation)
        localQueuedTasksPerWorker = try configuration.value(of: SchedulerKeys.localQueuedTasksPerWorker)
        maxStageAttempts = try configuration.value(of: SchedulerKeys.maxStageAttempts)
    }
}
