import Foundation

/// The scheduler's keys (read by Engine's `EngineSettings`) and the CLI's general ones.
public enum SchedulerKeys {
    public static let master = Declare.string(
        "sextant.master", .scheduler, .local, default: "local[*]",
        doc: "where `run` runs: `local`, `local[N]`, `local[*]` (one slot per core) or `sextant://HOST:PORT`; `--master`")
    public static let maxFailures = Declare.int(
        "sextant.task.maxFailures", .scheduler, .job, default: 4,
        doc: "failed attempts before an input is reported failed; attempts lost with their executor are counted apart and fail the input after as many losses (at least 2: the task may be crashing it); cancelled attempts never count")
    public static let failFast = Declare.bool(
        "sextant.job.failFast", .scheduler, .job, default: false,
        doc: "stop the job at the first input that exhausts its attempts; `--fail-fast`")
    public static let speculation = Declare.bool(
        "sextant.speculation", .scheduler, .job, default: false,
        doc: "launch a copy of straggling tasks; the first result wins, the other attempt is cancelled. Off as in Spark: copies cost I/O on a shared store")
    public static let speculationQuantile = Declare.number(
        "sextant.speculation.quantile", .scheduler, .job, default: 0.75, in: 0...1,
        doc: "fraction of tasks that must have finished before speculation starts")
    public static let speculationMultiplier = Declare.number(
        "sextant.speculation.multiplier", .scheduler, .job, default: 1.5, in: 1...Double.greatestFiniteMagnitude,
        doc: "a task is a straggler after this many times the median task time")
    public static let speculationMinRuntime = Declare.duration(
        "sextant.speculation.minRuntime", .scheduler, .job, default: 0.1, positive: false, shown: "`100ms`",
        doc: "never speculate a task that has run less than this")
    public static let speculationInterval = Declare.duration(
        "sextant.speculation.interval", .scheduler, .job, default: 0.1, shown: "`100ms`",
        doc: "how often to look for stragglers and expired exclusions")
    public static let excludeOnFailure = Declare.bool(
        "sextant.excludeOnFailure.enabled", .scheduler, .job, default: false,
        doc: "stop giving tasks to an executor that keeps failing them (the last usable executor is never excluded)")
    public static let excludeThreshold = Declare.int(
        "sextant.excludeOnFailure.threshold", .scheduler, .job, default: 2,
        doc: "failures in a row on one executor that exclude it")
    public static let excludeTimeout = Declare.duration(
        "sextant.excludeOnFailure.timeout", .scheduler, .job, default: 3600, shown: "`1h`",
        doc: "how long an excluded executor gets no tasks")
    public static let localityWait = Declare.duration(
        "sextant.locality.wait", .scheduler, .job, default: 0.1, positive: false, shown: "`100ms`",
        doc: "an input under an executor's `sextant.executor.localPaths` waits this long for that executor (delay scheduling) before another may take it; short, as Kira found a long wait idles the rest of the cluster")
    public static let queuedWork = Declare.duration(
        "sextant.scheduler.queuedWork", .scheduler, .job, default: 0.002, positive: false, shown: "`2ms`",
        doc: "the work the scheduler keeps queued per executor core beyond the task it runs, judged by the mean duration of the job's tasks so far: one queued task per core for tasks this long or longer (and until a task has been timed), up to the executor's `sextant.executor.queuedTasksPerSlot` for shorter ones, so short tasks travel in large frames and no queue lengthens a job's tail by more than this; `0`: always the executor's whole queue")
    public static let localSlots = Declare.key(
        "sextant.local.slots", .integer, .scheduler, .local, default: Int?.none, shown: "`*`",
        expected: "a whole number of at least 1, or *",
        doc: "task slots of local mode when `sextant.master` is plain `local[*]`") { text -> Int?? in
        if text.trimmingCharacters(in: .whitespaces) == "*" { return .some(nil) }
        return ValueParsers.int(text).flatMap { $0 >= 1 ? .some($0) : nil }
    }
    public static let localIsolation = Declare.bool(
        "sextant.local.isolation", .scheduler, .local, default: true,
        doc: "local mode runs its tasks in worker processes (`sextant worker`, one slot each, over pipes), so a native crash in SEP or CFITSIO loses only that input's worker; `false` runs them on threads of the `run` process")
    public static let localQueuedTasksPerWorker = Declare.int(
        "sextant.local.queuedTasksPerWorker", .scheduler, .local, default: 1, in: 0...4,
        doc: "tasks each worker process of local mode holds beyond the one it runs: it fetches the next task's first input while the current one runs and starts it without a round trip to the driver; at a job's tail an idle worker takes a task still waiting behind another (not counted as a failure); `0`: one task per worker (no effect when `sextant.local.isolation` is `false`)")
    public static let maxStageAttempts = Declare.int(
        "sextant.stage.maxConsecutiveAttempts", .scheduler, .job, default: 4,
        doc: "attempts of one stage of a job with shuffles that may fail for lack of map outputs (a reducer could not fetch them: executor lost, file gone) before the job fails; each retry first recomputes only the missing map outputs")
    public static let logLevel = Declare.key(
        "sextant.log.level", .string, .scheduler, .local, default: "info", shown: "`info`",
        expected: "trace, debug, info, notice, warning or error",
        doc: "`trace`, `debug`, `info`, `notice`, `warning`, `error`") { text -> String? in
        let level = text.trimmingCharacters(in: .whitespaces).lowercased()
        return ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) ? level : nil
    }

    public static let pool = Declare.optionalString(
        "sextant.scheduler.pool", .scheduler, .job, shown: "`default`",
        doc: "the master's fair-scheduler pool a submitted job runs in (`submit --conf`, a REST job's settings); pools are defined by `sextant.master.pools`, an unlisted one is weight 1, minShare 0, FIFO")

    public static let all = declarations(
        master, maxFailures, failFast, speculation, speculationQuantile, speculationMultiplier,
        speculationMinRuntime, speculationInterval, excludeOnFailure, excludeThreshold, excludeTimeout,
        localityWait, queuedWork, localSlots, localIsolation, localQueuedTasksPerWorker, logLevel, maxStageAttempts, pool)
}
