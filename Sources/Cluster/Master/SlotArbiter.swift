import Engine
import Foundation
import Logging

/// Shares the executors' slots among the jobs running at once (the master's fair scheduler).
///
/// Each job's own scheduler sees every executor with all its cores and "launches" into them;
/// its launches wait here, per executor, until that executor has a physical slot free, and each
/// free slot goes to the job that `PoolDefinition`'s rules say is furthest below its share.
/// Nothing is pre-empted: a job's share grows as other jobs' tasks finish, which for
/// one-input tasks is within a task's time. A job holds at most one executor's cores in waiting
/// launches per executor, so what waits here is O(jobs x slots).
///
/// @unchecked: all state is confined to one serial queue; sends to executors happen from it.
final class SlotArbiter: @unchecked Sendable {
    private final class JobEntry {
        let backend: ClusterBackend
        let pool: String
        let order: Int
        var running = 0
        var waiting: [ExecutorID: [TaskSpec]] = [:]
        /// Slots it just freed on each executor and is expected to launch into again.
        var reserved: [ExecutorID: Int] = [:]
        init(backend: ClusterBackend, pool: String, order: Int) {
            self.backend = backend
            self.pool = pool
            self.order = order
        }
    }

    private let queue = DispatchQueue(label: "sextant.master.slots")
    private let logger: Logger
    private var pools: [String: PoolDefinition]
    /// Sends tasks to one executor (one frame); false when it is gone (the registry posts its loss).
    var send: (@Sendable ([TaskSpec], ExecutorID) -> Bool)?
    var cancelRemote: (@Sendable (TaskAttemptID, ExecutorID) -> Void)?

    /// Each executor's cores; what it may hold is `capacity(of:)`: its cores plus its queue.
    private var cores: [ExecutorID: Int] = [:]
    /// Each executor's tasks' durations: with jobs competing, its queue holds about 2 ms of work a core
    /// (QueueDepth, `sextant.scheduler.queuedWork`'s default), so a queue cannot hold slots a fairer job wants.
    private var depth: [ExecutorID: QueueDepth] = [:]
    private var busy: [ExecutorID: Int] = [:]
    /// Each executor's queue length as it registered (`pump` refills it once half of what it may hold has run).
    private var queued: [ExecutorID: Int] = [:]
    /// Attempts sent and not yet finished, with the job they count for (nil once the job left).
    private var dispatched: [TaskAttemptID: (executor: ExecutorID, job: ObjectIdentifier?)] = [:]
    private var jobs: [ObjectIdentifier: JobEntry] = [:]
    static let relaunchGrace: DispatchTimeInterval = .milliseconds(50)

    init(pools: [PoolDefinition], logger: Logger) {
        var byName = Dictionary(uniqueKeysWithValues: pools.map { ($0.name, $0) })
        if byName[PoolDefinition.defaultName] == nil { byName[PoolDefinition.defaultName] = .defaultPool }
        self.pools = byName
        self.logger = logger
    }

    // MARK: Executors (from the registry, in its order)

    func executorAdded(_ id: ExecutorID, cores: Int, queued: Int = 0) {
        queue.async { [self] in
            self.cores[id] = cores
            self.queued[id] = queued
            depth[id] = QueueDepth(queuedWork: EngineSettings().queuedWork)
            busy[id] = busy[id] ?? 0
            pump(id)
        }
    }

    /// What waited for it is dropped: its job's scheduler hears of the loss and launches again elsewhere.
    func executorRemoved(_ id: ExecutorID) {
        queue.async { [self] in
            cores[id] = nil
            busy[id] = nil
            queued[id] = nil
            depth[id] = nil
            for job in jobs.values {
                job.waiting[id] = nil
                job.reserved[id] = nil
            }
            for (attempt, entry) in dispatched where entry.executor == id {
                dispatched[attempt] = nil
                if let job = entry.job { jobs[job]?.running -= 1 }
            }
        }
    }

    /// Attempts' results came back from `executor` (one frame of them): their slots are free.
    /// `durations`: the seconds those that succeeded ran, which size its queue.
    func released(_ attempts: [TaskAttemptID], on executor: ExecutorID, durations: [Double] = []) {
        queue.async { [self] in
            for attempt in attempts { release(attempt, on: executor) }
            if depth[executor] != nil {
                for seconds in durations { depth[executor]!.record(seconds: seconds) }
            }
            pump(executor)
        }
    }

    /// One job's own scheduler sizes its queues (`sextant.scheduler.queuedWork`) and gets the whole
    /// queue here; jobs competing share a queue sized by the executor's tasks' durations.
    private func capacity(of executor: ExecutorID) -> Int? {
        guard let cores = cores[executor], let queued = queued[executor] else { return nil }
        guard jobs.count > 1, let depth = depth[executor] else { return cores + queued }
        return cores + depth.queuedTasks(advertised: queued, cores: cores)
    }

    private func release(_ attempt: TaskAttemptID, on executor: ExecutorID) {
        guard let entry = dispatched[attempt], entry.executor == executor else { return }
        dispatched[attempt] = nil
        busy[executor, default: 1] -= 1
        guard let key = entry.job, let job = jobs[key] else { return }
        job.running -= 1
        // Its scheduler is about to launch again into the slot it just saw free: until that launch
        // arrives (or a short grace ends) the job competes for the slot as if it were here, so
        // a less deserving job cannot take it meanwhile (else FIFO would not hold).
        if jobs.count > 1, job.waiting[executor]?.isEmpty != false {
            job.reserved[executor, default: 0] += 1
            queue.asyncAfter(deadline: .now() + Self.relaunchGrace) { [self] in
                guard let job = jobs[key], let held = job.reserved[executor], held > 0 else { return }
                job.reserved[executor] = held > 1 ? held - 1 : nil
                pump(executor)
            }
        }
    }

    // MARK: Jobs (from their backends)

    func join(_ backend: ClusterBackend, pool: String, order: Int) {
        queue.async { [self] in
            if pools[pool] == nil { pools[pool] = PoolDefinition(name: pool) }
            jobs[ObjectIdentifier(backend)] = JobEntry(backend: backend, pool: pool, order: order)
        }
    }

    /// The job ended: its waiting launches are dropped; what it still runs keeps its slots until it ends.
    func leave(_ backend: ClusterBackend) {
        queue.async { [self] in
            let key = ObjectIdentifier(backend)
            guard let job = jobs.removeValue(forKey: key) else { return }
            for (attempt, entry) in dispatched where entry.job == key { dispatched[attempt]?.job = nil }
            // Slots it held back for itself go to the others.
            for executor in job.reserved.keys { pump(executor) }
        }
    }

    /// One scheduling pass's launches: queued in order, then each executor's free slots filled once.
    func launch(_ tasks: [TaskLaunch], for backend: ClusterBackend) {
        queue.async { [self] in
            guard let job = jobs[ObjectIdentifier(backend)] else { return }
            var touched: [ExecutorID] = []
            for launch in tasks where cores[launch.executor] != nil {
                if !touched.contains(launch.executor) { touched.append(launch.executor) }
                job.waiting[launch.executor, default: []].append(launch.task)
            }
            touched.forEach(pump)
        }
    }

    /// A waiting launch is taken back and reported as cancelled at once; a sent one is cancelled on its executor.
    func cancel(_ attempt: TaskAttemptID, on executor: ExecutorID, for backend: ClusterBackend) {
        queue.async { [self] in
            if let job = jobs[ObjectIdentifier(backend)],
               let index = job.waiting[executor]?.firstIndex(where: { $0.id == attempt }) {
                job.waiting[executor]?.remove(at: index)
                backend.post(.finished([TaskResult(id: attempt, executor: executor,
                                                   outcome: .failure(message: "cancelled before it started"), duration: 0)]))
                return
            }
            if dispatched[attempt]?.executor == executor { cancelRemote?(attempt, executor) }
        }
    }

    // MARK: Choosing

    /// Fills `executor`'s free slots, one at a time, each with the most deserving job's next launch,
    /// and sends what it chose in one frame.
    private func pump(_ executor: ExecutorID) {
        var batch: [TaskSpec] = []
        defer {
            if !batch.isEmpty, send?(batch, executor) != true {
                logger.debug("launch of \(batch.count) task(s) skipped: executor \(executor) is gone")
            }
        }
        // An executor with a queue is refilled once half of it has run: a frame then carries at least half
        // a queue, not the one or two tasks a result frame freed, and the other half covers the round trip.
        if let capacity = capacity(of: executor), let slots = cores[executor], capacity > slots,
           capacity - busy[executor, default: 0] < (capacity - slots + 1) / 2 { return }
        var held = 0
        var holders: Set<ObjectIdentifier> = []
        while let capacity = capacity(of: executor), busy[executor, default: 0] + held < capacity,
              let job = nextJob(for: executor, excluding: holders) {
            // The most deserving job is about to launch here: the slots it freed wait for it.
            guard job.waiting[executor]?.isEmpty == false else {
                held += job.reserved[executor] ?? 1
                holders.insert(ObjectIdentifier(job.backend))
                continue
            }
            if let held = job.reserved[executor] { job.reserved[executor] = held > 1 ? held - 1 : nil }
            let task = job.waiting[executor]!.removeFirst()
            busy[executor, default: 0] += 1
            job.running += 1
            dispatched[task.id] = (executor, ObjectIdentifier(job.backend))
            batch.append(task)
        }
    }

    private func nextJob(for executor: ExecutorID, excluding holders: Set<ObjectIdentifier>) -> JobEntry? {
        // One job (the common case) needs no shares: it is the choice if it wants the slot. This runs per task.
        if jobs.count == 1, let only = jobs.values.first {
            let wants = only.waiting[executor]?.isEmpty == false || only.reserved[executor] != nil
            return wants && !holders.contains(ObjectIdentifier(only.backend)) ? only : nil
        }
        let candidates = jobs.values.filter {
            !holders.contains(ObjectIdentifier($0.backend))
                && ($0.waiting[executor]?.isEmpty == false || $0.reserved[executor] != nil)
        }
        guard !candidates.isEmpty else { return nil }
        var byPool: [String: [JobEntry]] = [:]
        for job in candidates { byPool[job.pool, default: []].append(job) }
        var running: [String: Int] = [:]
        for job in jobs.values { running[job.pool, default: 0] += job.running }
        let share = { (name: String) -> FairShare in
            let pool = self.pools[name] ?? PoolDefinition(name: name)
            return FairShare(running: running[name] ?? 0, minShare: pool.minShare, weight: pool.weight,
                             order: byPool[name]!.map(\.order).min()!)
        }
        let pool = byPool.keys.min { FairShare.precedes(share($0), share($1)) }!
        let members = byPool[pool]!
        if pools[pool]?.mode == .fair {
            return members.min {
                FairShare.precedes(FairShare(running: $0.running, minShare: 0, weight: 1, order: $0.order),
                                   FairShare(running: $1.running, minShare: 0, weight: 1, order: $1.order))
            }
        }
        return members.min { $0.order < $1.order }
    }
}
