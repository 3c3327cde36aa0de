import Engine
import Foundation

/// `cores` threads running tasks through the handler. Each task remembers the session
/// (connection) it came on: its result goes back on that session only if it is still open.
/// What the master sends beyond `cores` (`sextant.executor.queuedTasksPerSlot`) waits in
/// `pending` and starts the moment a thread frees, with no round trip to the master.
/// A handler with `tasksAhead` (worker processes) takes that many more, one behind each running task,
/// so the next task's input is fetched while the current one runs; a drain takes them back.
/// Wakes one thread per task it queues and the drain's waiter only when there is one: a broadcast
/// per task and per result woke every idle thread only for all but one to sleep again.
/// @unchecked: `condition` guards `pending`, `running`, `stopped`, `draining` and `idleWaiters`.
final class WorkerPool: @unchecked Sendable {
    struct Job {
        let spec: TaskSpec
        let session: ExecutorSession
    }

    private let handler: TaskHandler
    private let cores: Int
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var running: [TaskAttemptID: ExecutorSession] = [:]
    private var stopped = false
    /// Leaving: queued tasks, and any launch still on the wire, go back to the master unstarted.
    private var draining = false
    /// Callers in `waitUntilIdle`, which must hear of every task that ends or arrives.
    private var idleWaiters = 0

    init(cores: Int, handler: TaskHandler) {
        self.handler = handler
        self.cores = cores
        for index in 0..<cores {
            let thread = Thread { [self] in work() }
            thread.name = "sextant-executor-worker-\(index)"
            thread.start()
        }
    }

    func submit(_ specs: [TaskSpec], session: ExecutorSession) {
        condition.lock()
        pending.append(contentsOf: specs.map { Job(spec: $0, session: session) })
        let extra = draining ? takeQueued() : []
        // A handler that starts tasks without blocking gets them from this thread, with no pool thread woken.
        var direct: [Job] = []
        while handler.startsWithoutBlocking, !stopped, running.count < capacity, !pending.isEmpty {
            let job = pending.removeFirst()
            running[job.spec.id] = job.session
            direct.append(job)
        }
        wake(tasks: direct.isEmpty ? specs.count : 0)  // a thread per task (none when started here), and a drain watching
        condition.unlock()
        handBack(extra.map { ($0.spec.id, $0.session) })
        direct.forEach(startOrRequeue)
    }

    /// A task not yet started is answered at once as failed (so its slot frees);
    /// a running one is passed to the handler's cancel.
    func cancel(_ id: TaskAttemptID, session: ExecutorSession) {
        condition.lock()
        if let index = pending.firstIndex(where: { $0.spec.id == id }) {
            pending.remove(at: index)
            condition.unlock()
            session.send(TaskResult(id: id, executor: session.executorID,
                                    outcome: .failure(message: "cancelled before it started"), duration: 0))
            return
        }
        let isRunning = running[id] != nil
        condition.unlock()
        if isRunning { handler.cancel(id) }
    }

    /// The session's connection died: drop its queued tasks and ask its running ones to stop.
    /// The master has declared them lost and will run them elsewhere.
    func abandon(_ session: ExecutorSession) {
        condition.lock()
        pending.removeAll { $0.session === session }
        let orphans = running.filter { $0.value === session }.map(\.key)
        condition.unlock()
        orphans.forEach(handler.cancel)
    }

    /// The executor is leaving: hands every task not yet started back to the master at once (they are
    /// not failures: the master runs them elsewhere), and so too any launch that arrives later. Those the
    /// handler holds behind running ones are taken back from it first.
    func drain() {
        condition.lock()
        draining = true
        var unstarted = takeQueued().map { ($0.spec.id, $0.session) }
        condition.broadcast()
        condition.unlock()
        let withdrawn = handler.withdrawQueued(timeout: 5)
        condition.lock()
        for id in withdrawn {
            if let session = running.removeValue(forKey: id) { unstarted.append((id, session)) }
        }
        wake(tasks: 0)
        condition.unlock()
        handBack(unstarted)
    }

    /// Tasks handed to the handler at most: its cores, and what it holds ahead unless draining.
    private var capacity: Int { draining ? cores : cores + handler.tasksAhead }

    /// Under `condition`: the pending tasks no idle thread is about to start (those it keeps, as before queues).
    private func takeQueued() -> [Job] {
        let starting = max(0, capacity - running.count)
        guard pending.count > starting else { return [] }
        let queued = Array(pending[starting...])
        pending.removeLast(pending.count - starting)
        return queued
    }

    private func handBack(_ unstarted: [(id: TaskAttemptID, session: ExecutorSession)]) {
        var bySession: [ObjectIdentifier: (ExecutorSession, [TaskAttemptID])] = [:]
        for (id, session) in unstarted {
            bySession[ObjectIdentifier(session), default: (session, [])].1.append(id)
        }
        for (session, ids) in bySession.values { session.handBack(ids) }
    }

    /// Waits until no task has been queued or running for `quiet` seconds (a launch the master
    /// sent before it heard of a drain may still be on the wire), or `deadline` passes; true when idle.
    func waitUntilIdle(deadline: Date, quiet: TimeInterval) -> Bool {
        condition.lock()
        idleWaiters += 1
        defer {
            idleWaiters -= 1
            condition.unlock()
        }
        while true {
            while !(pending.isEmpty && running.isEmpty) {
                guard condition.wait(until: deadline) else { return pending.isEmpty && running.isEmpty }
            }
            let calm = min(deadline, Date(timeIntervalSinceNow: quiet))
            while pending.isEmpty && running.isEmpty && condition.wait(until: calm) {}
            if pending.isEmpty && running.isEmpty { return true }
            if Date() >= deadline { return false }
        }
    }

    func stop() {
        condition.lock()
        stopped = true
        pending = []
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while let job = next() {
            // A handler that can start it without blocking (worker processes) lets this thread take the
            // next task; the result comes back through `ended`, on the handler's thread.
            if handler.start(job.spec, executor: job.session.executorID, done: { [self] in ended(job, $0) }) { continue }
            ended(job, handler.run(job.spec, executor: job.session.executorID), chaining: false)
        }
    }

    /// A task's result is in: it goes to its session, and the thread that brought it starts the next
    /// queued task if the handler lets it start without blocking (the worker just freed is idle), so no
    /// pool thread wakes for it.
    private func ended(_ job: Job, _ result: TaskResult, chaining: Bool = true) {
        job.session.send(result)
        condition.lock()
        running[job.spec.id] = nil
        var following: Job?
        if chaining, !stopped, running.count < capacity, !pending.isEmpty {
            following = pending.removeFirst()
            running[following!.spec.id] = following!.session
        }
        wake(tasks: 0)  // a drain may be waiting for the last one
        condition.unlock()
        if let following { startOrRequeue(following) }
    }

    /// Starts a job counted as running with the handler's `start`; if the handler has no room after all
    /// (a caller waiting in `run` took its worker), it goes back to the front of the queue for a pool thread.
    private func startOrRequeue(_ job: Job) {
        if handler.start(job.spec, executor: job.session.executorID, done: { [self] in ended(job, $0) }) { return }
        condition.lock()
        running[job.spec.id] = nil
        pending.insert(job, at: 0)
        wake(tasks: 1)
        condition.unlock()
    }

    /// Under `condition`: a thread for each of `tasks` new tasks; everyone when a drain waits.
    private func wake(tasks: Int) {
        if idleWaiters > 0 { return condition.broadcast() }
        for _ in 0..<min(tasks, cores) { condition.signal() }
    }

    private func next() -> Job? {
        condition.lock(); defer { condition.unlock() }
        // At most `cores` at once, also when the handler starts tasks without blocking: the rest stay
        // queued here, where a cancel or a drain finds them.
        while (pending.isEmpty || running.count >= capacity) && !stopped { condition.wait() }
        guard !stopped else { return nil }
        let job = pending.removeFirst()
        running[job.spec.id] = job.session
        return job
    }
}
