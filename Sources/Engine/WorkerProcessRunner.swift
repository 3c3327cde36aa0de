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
/// `start` hands a task to a worker without waiting for it: its result then goes to a closure on
/// the worker's reader thread, and no caller's thread is woken for it.
///
/// One task ahead per worker (`tasksAhead`): `start` gives a busy worker its next task, which waits
/// in the worker (its input fetched meanwhile: `WorkerLoop.Ahead`) and starts there the moment the
/// running one ends, with no hop through the daemon. The worker runs its tasks in order, so the
/// oldest one it holds is the running one: when it dies, that one fails (it may be the crash) and
/// those behind it, never started, go to another worker uncounted. `withdrawQueued` takes them back
/// unstarted (a drain).
/// @unchecked: `condition` guards every var.
public final class WorkerProcessRunner: BackendEvents, @unchecked Sendable {
    private let backend: WorkerProcessBackend
    private let condition = NSCondition()
    /// Live workers, and the attempts each holds in the order it runs them (the first is running).
    private var assigned: [ExecutorID: [TaskAttemptID]] = [:]
    private var order: [ExecutorID] = []
    /// When each worker's running attempt started (to give the next task to the one likely to free first).
    private var since: [ExecutorID: UInt64] = [:]
    private var workerOf: [TaskAttemptID: ExecutorID] = [:]
    /// What a held attempt is, so one whose worker died before it started can go to another.
    private var held: [TaskAttemptID: (spec: TaskSpec, executor: ExecutorID)] = [:]
    /// Attempts whose worker died before they started, waiting for a worker (a replacement).
    private var orphans: [TaskAttemptID] = []
    private var outcomes: [TaskAttemptID: TaskResult] = [:]
    /// Signalled when the attempt's outcome is in `outcomes`.
    private var arrivals: [TaskAttemptID: DispatchSemaphore] = [:]
    /// Where the outcomes of attempts given to `start` go.
    private var completions: [TaskAttemptID: @Sendable (TaskResult) -> Void] = [:]
    /// A `withdrawQueued` in progress: the workers yet to answer, and what they gave back.
    private var withdrawing: Set<ExecutorID> = []
    private var withdrawn: [TaskAttemptID] = []
    private var stopped = false

    /// Tasks `start` may hold beyond those running: one per worker, or none.
    public let tasksAhead: Int

    /// Longest a task waits for a worker (every replacement of a dead one failing takes 3 tries of
    /// `WorkerProcessBackend.startTimeout`); then it fails, to be retried elsewhere.
    static let workerWait: TimeInterval = 3 * WorkerProcessBackend.startTimeout + 10

    /// Starts the `slots` workers now: a worker that cannot start is an error at start-up.
    /// `ahead`: each worker may hold its next task while it runs one (`tasksAhead`).
    public init(slots: Int, launcher: WorkerProcessBackend.Launcher, ahead: Bool = true,
                logger: Logger = Logger(label: "sextant.executor.workers")) throws {
        backend = try WorkerProcessBackend(slots: slots, launcher: launcher, logger: logger)
        tasksAhead = ahead ? backend.slots : 0
        backend.withdrawn = { [weak self] worker, ids in self?.gaveBack(ids, from: worker) }
        backend.start(events: self)
    }

    /// Worker processes that died while serving (a crashing task, a kill from outside).
    public var deaths: Int { backend.deaths }

    /// Attempts waiting in workers behind a running one, or for a worker.
    public var waiting: Int {
        condition.lock(); defer { condition.unlock() }
        return assigned.values.reduce(orphans.count) { $0 + max(0, $1.count - 1) }
    }

    /// Runs `spec` in a worker and waits for its result; a worker that dies under it makes a failure.
    public func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult {
        let started = Date()
        let arrived = DispatchSemaphore(value: 0)
        guard let worker = takeIdleWorker(for: spec, executor: executor, until: started.addingTimeInterval(Self.workerWait),
                                          arrival: arrived) else {
            return TaskResult(id: spec.id, executor: executor, outcome: .failure(
                message: "no worker process is available on this executor (none could be started: see its log)"),
                duration: 0)
        }
        backend.launch(spec, on: worker, as: executor)
        arrived.wait()
        condition.lock()
        var result = outcomes.removeValue(forKey: spec.id)!
        condition.unlock()
        result.executor = executor
        if result.duration == 0 { result.duration = Date().timeIntervalSince(started) }
        return result
    }

    /// Starts `spec` in a worker idle now, or queues it behind the running task of a worker holding
    /// no other (`tasksAhead`), and returns true at once; `done` gets its result later, on a worker's
    /// reader thread (a task a worker dies under fails, as with `run`). False, and nothing started,
    /// when no worker has room: the caller runs it with `run`, which waits for one.
    public func start(_ spec: TaskSpec, executor: ExecutorID, done: @escaping @Sendable (TaskResult) -> Void) -> Bool {
        let started = Date()
        condition.lock()
        guard !stopped, let worker = roomyWorker() else {
            condition.unlock()
            return false
        }
        hold(spec, executor: executor, on: worker)
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

    /// Passes the cancellation to the worker holding the attempt (if any does).
    public func cancel(_ id: TaskAttemptID) {
        condition.lock()
        let worker = workerOf[id]
        var ended: (() -> Void)?
        if worker == nil, let index = orphans.firstIndex(of: id) {
            orphans.remove(at: index)
            ended = finish(id, .failure(message: "cancelled before it started"))
        }
        condition.unlock()
        ended?()
        if let worker { backend.cancel(id, on: worker) }
    }

    /// Takes back every attempt given to `start` that no worker has started (waiting behind a running
    /// one, or for a worker), waiting up to `timeout` for the workers' answers; their outcomes will never
    /// come. A worker that started one meanwhile runs it, and its result comes as usual.
    public func withdrawQueued(timeout: TimeInterval = 5) -> [TaskAttemptID] {
        condition.lock()
        var requests: [(ExecutorID, [TaskAttemptID])] = []
        for (worker, ids) in assigned where ids.count > 1 {
            requests.append((worker, Array(ids.dropFirst())))
            withdrawing.insert(worker)
        }
        var taken = orphans
        orphans = []
        for id in taken { forget(id) }
        condition.unlock()
        for (worker, ids) in requests { backend.withdraw(ids, on: worker) }
        condition.lock()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !withdrawing.isEmpty && condition.wait(until: deadline) {}
        withdrawing = []
        taken += withdrawn
        withdrawn = []
        condition.unlock()
        return taken
    }

    /// Stops the workers; tasks still waiting fail.
    public func stop() {
        condition.lock()
        stopped = true
        let attempts = assigned.values.flatMap { $0 } + orphans
        orphans = []
        let ended = attempts.compactMap { finish($0, .failure(message: "the executor is stopping")) }
        condition.broadcast()
        condition.unlock()
        ended.forEach { $0() }
        backend.stop()
    }

    // MARK: Under `condition`

    /// An idle worker, else (with `tasksAhead`) the busy one holding nothing else whose task started first.
    private func roomyWorker() -> ExecutorID? {
        if let idle = order.first(where: { assigned[$0]?.isEmpty == true }) { return idle }
        guard tasksAhead > 0 else { return nil }
        return order.filter { assigned[$0]?.count == 1 }.min { since[$0, default: 0] < since[$1, default: 0] }
    }

    private func hold(_ spec: TaskSpec, executor: ExecutorID, on worker: ExecutorID) {
        if assigned[worker, default: []].isEmpty { since[worker] = DispatchTime.now().uptimeNanoseconds }
        assigned[worker, default: []].append(spec.id)
        workerOf[spec.id] = worker
        held[spec.id] = (spec, executor)
    }

    private func takeIdleWorker(for spec: TaskSpec, executor: ExecutorID, until deadline: Date,
                                arrival: DispatchSemaphore) -> ExecutorID? {
        condition.lock(); defer { condition.unlock() }
        while !stopped {
            if let idle = order.first(where: { assigned[$0]?.isEmpty == true }) {
                hold(spec, executor: executor, on: idle)
                arrivals[spec.id] = arrival
                return idle
            }
            guard condition.wait(until: deadline) else { return nil }
        }
        return nil
    }

    /// Drops the bookkeeping of an attempt that left its worker (or never reached one).
    private func forget(_ attempt: TaskAttemptID) {
        if let worker = workerOf.removeValue(forKey: attempt), var ids = assigned[worker],
           let index = ids.firstIndex(of: attempt) {
            ids.remove(at: index)
            if index == 0, !ids.isEmpty { since[worker] = DispatchTime.now().uptimeNanoseconds }
            assigned[worker] = ids
        }
        held[attempt] = nil
        completions[attempt] = nil
    }

    /// Records the attempt's outcome and frees its bookkeeping. For an attempt given to `start`,
    /// returns the call of its closure, to be made once the lock is released.
    private func finish(_ attempt: TaskAttemptID, _ outcome: TaskOutcome, duration: Double = 0,
                        added: [[String]]? = nil) -> (() -> Void)? {
        let done = completions[attempt]
        let worker = workerOf[attempt] ?? ""
        forget(attempt)
        var result = TaskResult(id: attempt, executor: worker, outcome: outcome, duration: duration)
        result.addedPartitions = added
        if let done { return { done(result) } }
        outcomes[attempt] = result
        arrivals.removeValue(forKey: attempt)?.signal()
        return nil
    }

    /// Sends orphans to workers with room; returns the launches to make once the lock is released.
    private func placeOrphans() -> [() -> Void] {
        var launches: [() -> Void] = []
        while !stopped, let id = orphans.first, let worker = roomyWorker(), let task = held[id] {
            orphans.removeFirst()
            hold(task.spec, executor: task.executor, on: worker)
            launches.append { [backend] in backend.launch(task.spec, on: worker, as: task.executor) }
        }
        return launches
    }

    // MARK: BackendEvents (from the workers' reader threads)

    public func executorAdded(_ info: ExecutorInfo) {
        condition.lock()
        order.append(info.id)
        assigned[info.id] = []
        let launches = placeOrphans()
        condition.broadcast()
        condition.unlock()
        launches.forEach { $0() }
    }

    public func executorLost(_ id: ExecutorID, reason: String) {
        condition.lock()
        order.removeAll { $0 == id }
        let attempts = assigned.removeValue(forKey: id) ?? []
        for attempt in attempts { workerOf[attempt] = nil }
        // The running one may be the crash; those behind it never started: another worker runs them.
        let ended = attempts.first.flatMap { finish($0, .failure(message: "its \(reason) (the task may be crashing it)")) }
        orphans += attempts.dropFirst()
        if withdrawing.remove(id) != nil { condition.broadcast() }
        let launches = placeOrphans()
        condition.broadcast()
        condition.unlock()
        ended?()
        launches.forEach { $0() }
    }

    public func taskFinished(_ result: TaskResult) {
        condition.lock()
        var ended: (() -> Void)?
        var launches: [() -> Void] = []
        if workerOf[result.id] == result.executor {
            ended = finish(result.id, result.outcome, duration: result.duration, added: result.addedPartitions)
            if assigned[result.executor]?.isEmpty == true { condition.signal() }  // one caller waiting for a worker
            launches = placeOrphans()
        }
        condition.unlock()
        launches.forEach { $0() }
        ended?()  // after the worker has room again: the closure may start the next task on it
    }

    /// A worker's answer to `withdraw`: those it gave back never start.
    private func gaveBack(_ ids: [TaskAttemptID], from worker: ExecutorID) {
        condition.lock()
        for id in ids where workerOf[id] == worker {
            forget(id)
            withdrawn.append(id)
        }
        withdrawing.remove(worker)
        condition.broadcast()
        condition.unlock()
    }
}
