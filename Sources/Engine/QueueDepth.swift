/// How many tasks per core the scheduler keeps waiting on an executor beyond those it runs, from how
/// long its tasks take. A queue exists to hide the round trip to the master, so it is sized in time:
/// about `coveredSeconds` of work per core (`sextant.scheduler.queuedWork`, 2 ms). Tasks of 2 ms or more get one queued task per core,
/// as every queue did before; tasks of microseconds (no-op benchmarks, tiny cutouts) get up to the
/// executor's limit and travel in large frames. The depth beyond one thus never holds more than 2 ms
/// of work per core, and never lengthens a job's tail by more than that, whatever the task count.
public struct QueueDepth: Sendable {
    /// Weight of the newest duration in the running mean: about the last 20 tasks count.
    static let smoothing = 0.05

    /// The running mean of successful tasks' durations; nil until the first.
    public private(set) var meanSeconds: Double?

    /// The work each core's queue holds (`sextant.scheduler.queuedWork`); nil: the whole queue.
    public let coveredSeconds: Double?

    public init(coveredSeconds: Double?) {
        self.coveredSeconds = coveredSeconds
    }

    /// From `sextant.scheduler.queuedWork`, where 0 means the whole queue.
    public init(queuedWork: Double) {
        self.init(coveredSeconds: queuedWork > 0 ? queuedWork : nil)
    }

    /// Counts a successful attempt's duration on its executor.
    public mutating func record(seconds: Double) {
        let seconds = max(0, seconds.isFinite ? seconds : 0)
        meanSeconds = meanSeconds.map { $0 + Self.smoothing * (seconds - $0) } ?? seconds
    }

    /// Queued tasks per core, between 1 and `limit` (the executor's own `queuedTasks` per core); one until
    /// a task has been timed, so the first launches spread across executors as they always did.
    public func perCore(limit: Int) -> Int {
        guard let coveredSeconds else { return max(0, limit) }
        guard limit > 1, let mean = meanSeconds else { return min(1, max(0, limit)) }
        guard mean > 0 else { return limit }
        let wanted = coveredSeconds / mean
        return wanted >= Double(limit) ? limit : max(1, Int(wanted))
    }

    /// Of an executor's advertised queue (`ExecutorInfo.queuedTasks`), the part to fill now.
    public func queuedTasks(advertised: Int, cores: Int) -> Int {
        guard advertised > cores, cores > 0 else { return max(0, advertised) }
        return min(advertised, cores * perCore(limit: advertised / cores))
    }
}
