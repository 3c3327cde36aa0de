import Foundation
import Logging

/// Runs tasks in worker processes with TaskRunner's shape (a blocking `run`, a `cancel`), so an
/// executor daemon's task threads can hand each task to a process of its own: a native crash in
/// SEP or CFITSIO then loses one worker, not the daemon, its connection and its other tasks.
/// The crashed attempt comes back as a failure naming the signal; the scheduler retries it up to
/// `sextant.task.maxFailures` times and then reports its inputs failed. A fresh worker takes the
/// dead one's place (WorkerProcessBackend). One worker per slot: callers run at most `slots`
/// tasks at once (the daemon has that many threads), so a caller waits for a worker only while
/// a dead one is being replaced.
/// Each caller waits on a semaphore of its own, signalled with its outcome (a broadcast per
/// result woke every waiting caller), and a freed worker wakes one caller waiting for a worker.
/// `start` hands a task to an idle worker without waiting for it: its result then goes to a
/// closure on the worker's reader thread, and no caller's thread is woken for it.
/// @unchecked: `condition` guards `idle`, `busy`, `workerOf`, `outcomes`, `arrivals`, `completions` and `stopped`.
public final class WorkerProcessRunner: BackendEvents, @unchecked Sendable {
    private let backend: WorkerProcessBackend
    private let condition = NSCondition()
    private var idle: [ExecutorID] = []
    /// The attempt each busy worker runs, and where its outcome goes when it ends.
    private var busy: [ExecutorID: TaskAttemptID] = [:]
    private var workerOf: [TaskAttemptID: ExecutorID] = [:]
    private var outcomes: [TaskAttemptID: TaskResult] = [:]
    /// Signalled when the attempt's outcome is in `outcomes`.
    private var arrivals: [TaskAttemptID: DispatchSemaphore] = [:]
    /// Where the outcomes of attempts given to `start` go.
    private var completions: [TaskAttemptID: @Sendable (TaskResult) -> Void] = [:]
    private var stopped = false

    /// Longest a task waits for a worker (every replacement of a dead one failing takes 3 tries of
    /// `WorkerProcessBackend.startTimeout`); then it fails, to be retried elsewhere.
    static let workerWait: TimeInterval = 3 * WorkerProcessBackend.startTimeout + 10

    /// Starts the `slots` workers now: a worker that cannot start is an error at start-up.
    public init(slots: Int, launcher: WorkerProcessBackend.Launcher,
                logger: Logger = Logger(label: "sextant.executor.workers")) throws {
        backend = try WorkerProcessBackend(slots: slots, launcher: launcher, logger: logger)
        backend.start(events: self)
    }

    /// Worker processes that died while serving (a crashing task, a kill from outside).
    public var deaths: Int { backend.deaths }

    /// Runs `spec` in a worker and waits for its result; a worker that dies under it makes a failure.
    public func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult {
        let started = Date()
        guard let worker = takeWorker(for: spec.id, until: started.addingTimeInterval(Self.workerWait)) else {
            return TaskResult(id: spec.id, executor: executor, outcome: .failure(
                message: "no worker process is available on this executor (none could be started: see its log)"),
                duration: 0)
        }
        let arrived = DispatchSemaphore(value: 0)
        condition.lock()
        let early = outcomes[spec.id] != nil  // only if the executor stopped meanwhile
        if !early { arrivals[spec.id] = arrived }
        condition.unlock()
        if !early {
            backend.launch(spec, on: worker, as: executor)
            arrived.wait()
        }
        condition.lock()
        var result = outcomes.removeValue(forKey: spec.id)!
        condition.unlock()
        result.executor = executor
        if result.duration == 0 { result.duration = Date().timeIntervalSince(started) }
        return result
    }

    /// Starts `spec` in a worker idle now and returns true at once; `done` gets its result later, on
    /// the worker's reader thread (a task a worker dies under fails, as with `run`). False, and nothing
    /// started, when no worker is idle: the caller runs it with `run`, which waits for one.
    public func start(_ spec: TaskSpec, executor: ExecutorID, done: @escaping @Sendable (TaskResult) -> Void) -> Bool {
        let started = Date()
        condition.lock()
        guard !stopped, !idle.isEmpty else {
            condition.unlock()
            return false
        }
        let worker = idle.removeFirst()
        busy[worker] = spec.id
        workerOf[spec.id] = worker
        completions[spec.id] = { outcome in
            var result = outcome
            result.executor = executor
            if result.duration == 0 { result.duration = Date().timeIntervalSince(started) }
            done(result)
        }
        condition.unlock()
        backend.launch(spec, on: worker, as: executor)
        return true
    }

    /// Passes the cancellation to the worker running the attempt (if any is).
    public func cancel(_ id: TaskAttemptID) {
        condition.lock()
        let worker = workerOf[id]
        condition.unlock()
        if let worker { backend.cancel(id, on: worker) }
    }

    /// Stops the workers; tasks still waiting fail.
    public func stop() {
        condition.lock()
        stopped = true
        let ended = busy.compactMap { worker, attempt in
            finish(attempt, on: worker, .failure(message: "the executor is stopping"))
        }
        condition.broadcast()
        condition.unlock()
        ended.forEach { $0() }
        backend.stop()
    }

    private func takeWorker(for id: TaskAttemptID, until deadline: Date) -> ExecutorID? {
        condition.lock(); defer { condition.unlock() }
        while idle.isEmpty && !stopped {
            guard condition.wait(until: deadline) else { return nil }
        }
        guard !stopped else { return nil }
        let worker = idle.removeFirst()
        busy[worker] = id
        workerOf[id] = worker
        return worker
    }

    /// Records the attempt's outcome (the lock held) and frees its worker's bookkeeping. For an attempt
    /// given to `start`, returns the call of its closure, to be made once the lock is released.
    private func finish(_ attempt: TaskAttemptID, on worker: ExecutorID, _ outcome: TaskOutcome, duration: Double = 0,
                        added: [[String]]? = nil) -> (() -> Void)? {
        busy[worker] = nil
        workerOf[attempt] = nil
        var result = TaskResult(id: attempt, executor: worker, outcome: outcome, duration: duration)
        result.addedPartitions = added
        if let done = completions.removeValue(forKey: attempt) { return { done(result) } }
        outcomes[attempt] = result
        arrivals.removeValue(forKey: attempt)?.signal()
        return nil
    }

    // MARK: BackendEvents (from the workers' reader threads)

    public func executorAdded(_ info: ExecutorInfo) {
        condition.lock()
        idle.append(info.id)
        condition.broadcast()
        condition.unlock()
    }

    public func executorLost(_ id: ExecutorID, reason: String) {
        condition.lock()
        idle.removeAll { $0 == id }
        let ended = busy[id].flatMap { attempt in
            finish(attempt, on: id, .failure(message: "its \(reason) (the task may be crashing it)"))
        }
        condition.broadcast()
        condition.unlock()
        ended?()
    }

    public func taskFinished(_ result: TaskResult) {
        condition.lock()
        var ended: (() -> Void)?
        if busy[result.executor] == result.id {
            ended = finish(result.id, on: result.executor, result.outcome, duration: result.duration,
                           added: result.addedPartitions)
            idle.append(result.executor)
            condition.signal()  // one caller waiting for a worker
        }
        condition.unlock()
        ended?()  // after the worker is idle again: the closure may start the next task on it
    }
}
