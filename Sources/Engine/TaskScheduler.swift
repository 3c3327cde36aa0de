import Foundation
import Logging

/// The driver's scheduler (a DAGScheduler-lite over narrow lineage, plus Spark's
/// TaskSetManager duties): turns jobs into task attempts and hands them to executors
/// as slots free up, retries failures, speculates stragglers, excludes failing executors,
/// fences stale results, and recomputes lost outputs.
///
/// @unchecked: all state lives on one serial queue (`queue`); backend events may arrive on any thread.
public final class TaskScheduler: BackendEvents, @unchecked Sendable {
    public let settings: EngineSettings
    let backend: ExecutorBackend
    let queue = DispatchQueue(label: "sextant.engine.scheduler")
    private var logger: Logger

    private var executors: [ExecutorID: ExecutorState] = [:]
    private var executorOrder: [ExecutorID] = []
    private var attempts: [TaskAttemptID: Attempt] = [:]
    private var jobs: [TaskSetManager] = []
    private var handles: [String: JobHandle] = [:]
    private var listeners: [any JobListener] = []
    private var timer: DispatchSourceTimer?
    private var started = false
    /// How deep executors' queues are filled, from the durations of the tasks that succeeded.
    private var queueDepth: QueueDepth

    struct ExecutorState {
        var info: ExecutorInfo
        var running: Set<TaskAttemptID> = []
        var consecutiveFailures = 0
        var excludedUntil: DispatchTime?
        /// Leaving: offered no new tasks, and its attempts lost when it goes are not counted.
        var draining = false
        /// Attempts launched beyond its cores (`ExecutorInfo.queuedTasks`), oldest first: they wait in
        /// its queue, not running, and start in this order as its running ones end.
        var queued: [TaskAttemptID] = []
        /// Free slots when its queue is filled to `depth` (QueueDepth: sized in time, not count).
        func freeSlots(_ depth: QueueDepth) -> Int {
            draining ? 0 : info.cores + depth.queuedTasks(advertised: info.queuedTasks ?? 0, cores: info.cores) - running.count
        }
    }

    struct Attempt {
        let job: TaskSetManager
        let partition: Int
        let executor: ExecutorID
        /// When it left its executor's queue and began to run (as the scheduler infers it); nil while queued.
        var started: DispatchTime?
        let speculative: Bool
        var cancelled = false
        /// At a job's tail: asked back from its executor's queue to run on this idle executor instead.
        var movingTo: ExecutorID?
        /// Its executor had already started it when asked back: never asked again.
        var keptByExecutor = false
    }

    public init(backend: ExecutorBackend, settings: EngineSettings = EngineSettings(),
                logger: Logger = Logger(label: "sextant.engine")) {
        self.backend = backend
        self.settings = settings
        self.logger = logger
        queueDepth = QueueDepth(queuedWork: settings.queuedWork)
    }

    /// Connects to the backend; executors it knows are reported at once.
    public func start() {
        let first: Bool = queue.sync {
            defer { started = true }
            return !started
        }
        if first { backend.start(events: self) }
    }

    /// Stops the timer and the backend. Running jobs are cancelled.
    public func stop() {
        queue.sync {
            for job in jobs { abort(job, status: .cancelled) }
            timer?.cancel()
            timer = nil
        }
        backend.stop()
    }

    /// Receives every job's and executor's events (in addition to each job's own listener).
    public func addListener(_ listener: any JobListener) {
        queue.async { self.listeners.append(listener) }
    }

    /// Starts `job` and returns at once.
    public func submit(_ job: JobDescription) -> JobHandle {
        start()
        let handle = JobHandle(jobID: job.jobID) { [weak self] in self?.cancel(jobID: job.jobID) }
        queue.async { self.begin(job, handle: handle) }
        return handle
    }

    /// Runs `job` and waits for its result.
    public func run(_ job: JobDescription) -> JobResult {
        submit(job).wait()
    }

    public func cancel(jobID: String) {
        queue.async {
            guard let job = self.jobs.first(where: { $0.job.jobID == jobID }) else { return }
            self.logger.info("cancelling job", metadata: ["job": "\(jobID)"])
            self.abort(job, status: .cancelled)
        }
    }

    /// The executors known now, with their free slots.
    public func executorSnapshot() -> [(info: ExecutorInfo, freeSlots: Int, excluded: Bool)] {
        queue.sync {
            executorOrder.compactMap { id in
                executors[id].map { ($0.info, $0.freeSlots(queueDepth), isExcluded($0)) }
            }
        }
    }

    // MARK: BackendEvents

    public func executorAdded(_ info: ExecutorInfo) {
        queue.async {
            // The same id again means the process restarted: what it ran before is gone.
            if self.executors[info.id] != nil { self.handleExecutorLost(info.id, reason: "executor re-registered") }
            self.executorOrder.append(info.id)
            self.executors[info.id] = ExecutorState(info: info)
            for job in self.jobs { job.assignLocality([info]) }
            self.logger.info("executor added", metadata: ["executor": "\(info.id)", "cores": "\(info.cores)"])
            self.notifyAll { $0.executorAdded(info) }
            self.launchTasks()
        }
    }

    public func executorLost(_ id: ExecutorID, reason: String) {
        queue.async { self.handleExecutorLost(id, reason: reason) }
    }

    public func taskFinished(_ result: TaskResult) {
        queue.async {
            self.handleResult(result)
            self.launchTasks()
        }
    }

    /// One hop onto the queue and one launch pass for the lot (an executor's frame of results).
    public func tasksFinished(_ results: [TaskResult]) {
        queue.async {
            for result in results { self.handleResult(result) }
            self.launchTasks()
        }
    }

    public func executorDraining(_ id: ExecutorID) {
        queue.async {
            guard self.executors[id] != nil else { return }
            self.executors[id]?.draining = true
            self.logger.info("executor draining", metadata: ["executor": "\(id)",
                                                             "running": "\(self.executors[id]?.running.count ?? 0)"])
        }
    }

    public func tasksReturned(_ ids: [TaskAttemptID], by executor: ExecutorID) {
        queue.async {
            var launches: [TaskLaunch] = []
            for id in ids { self.handleReturned(id, by: executor, launches: &launches) }
            // Asked back but not among them: the executor had started it (the scheduler only infers that).
            for (id, attempt) in self.attempts where attempt.executor == executor && attempt.movingTo != nil && !ids.contains(id) {
                self.attempts[id]?.movingTo = nil
                self.attempts[id]?.keptByExecutor = true
            }
            if !launches.isEmpty { self.backend.launch(launches) }
            self.launchTasks()
        }
    }

    /// A queued attempt its executor never started: it goes back to pending, counted neither lost nor failed;
    /// one asked back for an idle core (`moveQueuedAttempts`) is launched there.
    private func handleReturned(_ id: TaskAttemptID, by executor: ExecutorID, launches: inout [TaskLaunch]) {
        guard let attempt = attempts[id], attempt.executor == executor else { return }
        attempts[id] = nil
        noteEnded(id, on: executor)
        let job = attempt.job
        job.noteStopped(partition: attempt.partition, on: executor)
        guard job.endStatus == nil else { return }
        if let target = attempt.movingTo, !attempt.cancelled, !job.partitions[attempt.partition].status.isFinished,
           let state = executors[target], !isExcluded(state), state.freeSlots(queueDepth) > 0 {
            logger.debug("moving a queued attempt to an idle core", metadata: ["attempt": "\(id)", "from": "\(executor)", "to": "\(target)"])
            job.attemptWithdrawn(partition: attempt.partition)
            notify(job) { $0.taskEnded(self.endEvent(id, executor, speculative: attempt.speculative, duration: 0, .cancelled)) }
            launches.append(TaskLaunch(task: launch(job, partition: attempt.partition, speculative: attempt.speculative, on: target),
                                       executor: target))
            return
        }
        _ = job.attemptEnded(partition: attempt.partition, lost: false)
        notify(job) { $0.taskEnded(self.endEvent(id, executor, speculative: attempt.speculative, duration: 0,
                                                 attempt.cancelled ? .cancelled : .lost(reason: "handed back unstarted by its executor"))) }
        _ = finishIfDone(job)
    }

    // MARK: Jobs

    private func begin(_ description: JobDescription, handle: JobHandle) {
        let job = TaskSetManager(job: description, settings: settings)
        job.assignLocality(executorOrder.compactMap { executors[$0]?.info })
        var skipped = 0
        if let check = description.options.outputCheck, check.skipCommitted {
            skipped = job.skipCommitted(committedNow(check))
        }
        jobs.append(job)
        handles[description.jobID] = handle
        logger.info("job started", metadata: ["job": "\(description.jobID)",
                                              "partitions": "\(job.partitionCount)", "skipped": "\(skipped)"])
        notify(job) { $0.jobStarted(JobStartEvent(jobID: description.jobID, partitions: job.partitionCount,
                                                   skipped: skipped)) }
        startTimerIfNeeded()
        if !finishIfDone(job) { launchTasks() }
    }

    /// Offers free slots to jobs, one slot per executor per round so work spreads out. The pass's
    /// launches go to the backend together, so it may send each executor its share in one message.
    private func launchTasks() {
        guard !jobs.isEmpty else { return }
        let usable = executorOrder.filter { executors[$0].map { !isExcluded($0) } == true }
        var launches: [TaskLaunch] = []
        var launchedAny = true
        while launchedAny {
            launchedAny = false
            for id in usable {
                guard let state = executors[id], state.freeSlots(queueDepth) > 0 else { continue }
                for job in jobs {
                    if let next = job.nextTask(for: id, otherExecutorsUsable: usable.count > 1,
                                               isAlive: { self.executors[$0] != nil }) {
                        launches.append(TaskLaunch(task: launch(job, partition: next.partition,
                                                                speculative: next.speculative, on: id),
                                                   executor: id))
                        launchedAny = true
                        break
                    }
                }
            }
        }
        moveQueuedAttempts(toIdle: usable)
        if launches.count == 1 {
            backend.launch(launches[0].task, on: launches[0].executor)
        } else if !launches.isEmpty {
            backend.launch(launches)
        }
    }

    /// A job's tail (where the backend allows it): once nothing is left to hand out, an idle core asks back
    /// an attempt still waiting in another executor's queue (`ExecutorInfo.queuedTasks`), which would start
    /// only when that executor's running task ends. Only an attempt its executor hands back unstarted moves
    /// (`handleReturned`): the scheduler infers when a queued task starts, and an attempt that had started
    /// must not run twice, nor its crash go uncounted. So queues that hide the round trip never lengthen the tail.
    private func moveQueuedAttempts(toIdle usable: [ExecutorID]) {
        guard backend.rebalancesQueuedAttempts, jobs.allSatisfy({ !$0.hasPendingWork }) else { return }
        var asked: [ExecutorID: [TaskAttemptID]] = [:]
        for id in usable {
            guard let state = executors[id], state.freeSlots(queueDepth) > 0 else { continue }
            let idle = state.info.cores - (state.running.count - state.queued.count)
            var coming = attempts.values.filter { $0.movingTo == id }.count
            while coming < idle, let (waiting, donor) = newestWaitingAttempt(elsewhere: id) {
                attempts[waiting]?.movingTo = id
                asked[donor, default: []].append(waiting)
                coming += 1
            }
        }
        for (donor, ids) in asked { backend.withdraw(ids, on: donor) }
    }

    /// The last attempt still waiting in the queue of the first other executor (in registration order) that has one:
    /// the one that would start last there.
    private func newestWaitingAttempt(elsewhere target: ExecutorID) -> (TaskAttemptID, ExecutorID)? {
        for donor in executorOrder where donor != target {
            // One request at a time per executor: its answer then says of each attempt asked for whether it was handed back.
            guard let queued = executors[donor]?.queued,
                  !attempts.values.contains(where: { $0.executor == donor && $0.movingTo != nil }) else { continue }
            let movable = { (attempt: Attempt) in !attempt.cancelled && !attempt.keptByExecutor && attempt.job.endStatus == nil }
            if let waiting = queued.last(where: { attempts[$0].map(movable) == true }) {
                return (waiting, donor)
            }
        }
        return nil
    }

    /// Records the attempt and returns its spec, for `launchTasks` to hand to the backend.
    private func launch(_ job: TaskSetManager, partition: Int, speculative: Bool, on executor: ExecutorID) -> TaskSpec {
        let id = job.makeAttempt(partition: partition)
        job.noteRunning(partition: partition, on: executor)
        let waits = executors[executor].map { $0.running.count - $0.queued.count >= $0.info.cores } ?? false
        attempts[id] = Attempt(job: job, partition: partition, executor: executor,
                               started: waits ? nil : .now(), speculative: speculative)
        executors[executor]?.running.insert(id)
        var spec = TaskSpec(id: id, inputs: job.inputs(partition), steps: job.job.steps,
                            settings: job.job.settings, speculative: speculative)
        let mayAdd = job.job.options.maxAddedPartitionsPerTask
        spec.maxAddedPartitions = mayAdd > 0 ? mayAdd : nil
        logger.debug("launching task", metadata: ["attempt": "\(id)", "executor": "\(executor)",
                                                  "speculative": "\(speculative)"])
        if waits {
            executors[executor]?.queued.append(id)
        } else {
            notify(job) { $0.taskStarted(TaskStartEvent(attempt: id, executor: executor, speculative: speculative)) }
        }
        return spec
    }

    /// `id` left `executor`: a queued attempt simply leaves the queue; a running one's core goes to the
    /// oldest queued attempt, which the executor starts at once (a queued task is not running until then).
    /// A draining executor starts nothing more: it hands its queue back.
    private func noteEnded(_ id: TaskAttemptID, on executor: ExecutorID) {
        guard var state = executors[executor] else { return }
        state.running.remove(id)
        if let index = state.queued.firstIndex(of: id) { state.queued.remove(at: index) }
        var starting: [TaskAttemptID] = []
        while !state.draining, !state.queued.isEmpty, state.running.count - state.queued.count < state.info.cores {
            starting.append(state.queued.removeFirst())
        }
        executors[executor] = state
        for next in starting {
            attempts[next]?.started = .now()
            guard let attempt = attempts[next] else { continue }
            notify(attempt.job) {
                $0.taskStarted(TaskStartEvent(attempt: next, executor: executor, speculative: attempt.speculative))
            }
        }
    }

    /// The caller runs `launchTasks` after it (once for a batch of results).
    private func handleResult(_ result: TaskResult) {
        guard let attempt = attempts[result.id], attempt.executor == result.executor else {
            // Fenced: the attempt was superseded, lost with its executor, or never ours.
            logger.debug("discarding stale result", metadata: ["attempt": "\(result.id)",
                                                              "executor": "\(result.executor)"])
            if let job = jobs.first(where: { $0.job.jobID == result.id.jobID }) {
                notify(job) { $0.taskEnded(self.endEvent(result.id, result.executor, speculative: false,
                                                         duration: result.duration,
                                                         .discarded(reason: "stale attempt"))) }
            }
            return
        }
        attempts[result.id] = nil
        noteEnded(result.id, on: attempt.executor)
        let job = attempt.job
        let partition = attempt.partition
        let elapsed = attempt.started.map(seconds(since:)) ?? 0
        job.noteStopped(partition: partition, on: attempt.executor)
        guard job.endStatus == nil else { return }

        func end(_ outcome: TaskEndEvent.Outcome, records: [Data] = [], added: Range<Int>? = nil) {
            var event = endEvent(result.id, attempt.executor, speculative: attempt.speculative,
                                 duration: elapsed, outcome)
            event.records = records
            event.addedPartitions = added
            event.origin = job.origin(of: partition)
            notify(job) { $0.taskEnded(event) }
        }

        if attempt.cancelled {
            job.attemptEnded(partition: partition, lost: false)
            end(.cancelled)
            return
        }
        if job.partitions[partition].status.isFinished {
            job.attemptFinished(partition: partition)
            end(.discarded(reason: "partition already \(job.partitions[partition].status)"))
            return
        }
        var outcome = result.outcome
        let handedBack = result.addedPartitions ?? []
        if case .success = outcome, handedBack.count > job.job.options.maxAddedPartitionsPerTask {
            outcome = .failure(message: "the task handed back \(handedBack.count) partitions; this job takes at most "
                               + "\(job.job.options.maxAddedPartitionsPerTask)")
        }
        switch outcome {
        case .success(let records):
            queueDepth.record(seconds: result.duration)
            job.attemptFinished(partition: partition)
            let added = job.addPartitions(handedBack, from: partition)
            if let added {
                logger.debug("partitions added", metadata: ["job": "\(job.job.jobID)", "from": "\(partition)",
                                                            "count": "\(added.count)"])
            }
            job.succeeded(partition: partition, records: records, executor: attempt.executor, duration: elapsed)
            executors[attempt.executor]?.consecutiveFailures = 0
            end(.succeeded(records: records.count), records: records, added: added)
            cancelOtherAttempts(of: partition, in: job, reason: "twin \(result.id) won")
        case .failure(let message):
            job.attemptFinished(partition: partition)
            let reason = "attempt \(result.id.attempt) on \(attempt.executor): \(message)"
            let exhausted = job.failed(partition: partition, reason: reason, executor: attempt.executor)
            end(.failed(message: message))
            // A fatal failure (a fetch failure: another executor's output is gone) says nothing of this executor.
            if job.job.options.isFatalFailure?(reason) != true { noteFailure(on: attempt.executor, message: message) }
            if exhausted {
                logger.warning("partition failed", metadata: ["job": "\(job.job.jobID)", "partition": "\(partition)",
                                                              "attempts": "\(job.maxFailures)"])
                cancelOtherAttempts(of: partition, in: job, reason: "partition failed")
                if job.failFast {
                    abort(job, status: .failed, reason: "partition \(partition) failed \(job.maxFailures) times; last: \(message)")
                    return
                }
            }
        }
        _ = finishIfDone(job)
    }

    private func handleExecutorLost(_ id: ExecutorID, reason: String) {
        guard let state = executors.removeValue(forKey: id) else { return }
        executorOrder.removeAll { $0 == id }
        logger.warning("executor lost", metadata: ["executor": "\(id)", "reason": "\(reason)"])
        notifyAll { $0.executorLost(id, reason: reason) }
        for attemptID in state.running {
            guard let attempt = attempts.removeValue(forKey: attemptID) else { continue }
            let job = attempt.job
            job.noteStopped(partition: attempt.partition, on: id)
            guard job.endStatus == nil else { continue }
            // A draining executor was told to go: what it could not finish is not its fault, nor the task's;
            // nor is the loss of an attempt still waiting in its queue, where the backend can tell (it never
            // ran: another's crash took it). Over TCP a queued one may have started unseen: it counts.
            let counted = !attempt.cancelled && !state.draining && (attempt.started != nil || !backend.observesQueuedStarts)
            let exhausted = job.attemptEnded(partition: attempt.partition, lost: counted, reason: reason)
            notify(job) { $0.taskEnded(self.endEvent(attemptID, id, speculative: attempt.speculative,
                                                     duration: attempt.started.map(self.seconds(since:)) ?? 0,
                                                     attempt.cancelled ? .cancelled : .lost(reason: reason))) }
            if exhausted {
                logger.warning("partition failed: lost with its executor \(job.maxLostAttempts) times",
                               metadata: ["job": "\(job.job.jobID)", "partition": "\(attempt.partition)"])
                if job.failFast {
                    abort(job, status: .failed,
                          reason: "partition \(attempt.partition) was lost with its executor \(job.maxLostAttempts) times")
                }
            }
        }
        for job in jobs {
            guard let check = job.job.options.outputCheck, check.outputsAreExecutorLocal,
                  job.partitions.contains(where: { $0.winner == id }) else { continue }
            let isCommitted = committedNow(check)
            for partition in job.partitions.indices
            where job.partitions[partition].winner == id && !isCommitted(partition) {
                _ = job.outputLost(partition: partition)
            }
        }
        for job in jobs { _ = finishIfDone(job) }
        launchTasks()
    }

    private func cancelOtherAttempts(of partition: Int, in job: TaskSetManager, reason: String) {
        for (id, attempt) in attempts where attempt.job === job && attempt.partition == partition && !attempt.cancelled {
            attempts[id]?.cancelled = true
            logger.debug("cancelling attempt", metadata: ["attempt": "\(id)", "reason": "\(reason)"])
            backend.cancel(id, on: attempt.executor)
        }
    }

    /// Ends `job` now: cancels its running attempts and reports `status`.
    private func abort(_ job: TaskSetManager, status: JobStatus, reason: String? = nil) {
        guard job.endStatus == nil else { return }
        // Queued attempts first: dropped from their executor's queue before a cancelled running one frees a core.
        let doomed = attempts.filter { $0.value.job === job && !$0.value.cancelled }
            .sorted { ($0.value.started == nil ? 0 : 1) < ($1.value.started == nil ? 0 : 1) }
        for (id, attempt) in doomed {
            attempts[id]?.cancelled = true
            backend.cancel(id, on: attempt.executor)
        }
        job.cancelUnfinished()
        finish(job, status: status, failureReason: reason)
    }

    /// When every partition is finished, verifies committed outputs (recomputing lost
    /// ones) and ends the job. Returns true when the job ended.
    private func finishIfDone(_ job: TaskSetManager) -> Bool {
        guard job.endStatus == nil, job.isAllFinished, !job.verifying else { return job.endStatus != nil }
        guard let check = job.job.options.outputCheck else { return finishVerified(job) }
        guard let listing = check.listing else { return reopenLost(job, isCommitted: check.isCommitted) }
        // A listing of a million outputs takes seconds: off the queue, so other jobs' tasks go on.
        job.verifying = true
        let jobID = job.job.jobID  // the manager itself stays on the queue: found again by its id
        DispatchQueue.global().async {
            let pass = Result { try listing() }
            self.queue.async {
                guard let job = self.jobs.first(where: { $0.job.jobID == jobID }) else { return }
                job.verifying = false
                guard job.endStatus == nil else { return }
                switch pass {
                case .success(let isCommitted):
                    // An executor lost meanwhile may have reopened partitions: they run, then another pass.
                    if job.isAllFinished { _ = self.reopenLost(job, isCommitted: isCommitted) } else { self.launchTasks() }
                case .failure(let error):
                    self.finish(job, status: .failed, failureReason: "could not check the committed outputs: \(error)")
                }
            }
        }
        return false
    }

    /// Lineage: succeeded partitions whose output is gone run again; ends the job when none is.
    private func reopenLost(_ job: TaskSetManager, isCommitted: (Int) -> Bool) -> Bool {
        var reopened = 0
        for partition in job.partitions.indices
        where job.partitions[partition].status == .succeeded && !isCommitted(partition) {
            if job.outputLost(partition: partition) { reopened += 1 }
        }
        if reopened > 0 {
            logger.warning("committed outputs lost; recomputing from lineage",
                           metadata: ["job": "\(job.job.jobID)", "partitions": "\(reopened)"])
            launchTasks()
            return false
        }
        return finishVerified(job)
    }

    private func finishVerified(_ job: TaskSetManager) -> Bool {
        let failed = job.partitions.contains { $0.status == .failed }
        finish(job, status: failed ? .completedWithFailures : .succeeded)
        return true
    }

    /// What is committed now, by one listing when the check has one (else a call per partition).
    private func committedNow(_ check: OutputCheck) -> (Int) -> Bool {
        guard let listing = check.listing else { return check.isCommitted }
        do { return try listing() } catch {
            logger.warning("could not list the committed outputs: \(error)")
            return { _ in false }
        }
    }

    private func finish(_ job: TaskSetManager, status: JobStatus, failureReason: String? = nil) {
        job.endStatus = status
        jobs.removeAll { $0 === job }
        let result = job.result(status: status, failureReason: failureReason)
        var metadata: Logger.Metadata = ["job": "\(job.job.jobID)", "status": "\(status.rawValue)",
                                          "seconds": "\(result.duration)"]
        if let failureReason { metadata["reason"] = "\(failureReason)" }
        logger.info("job ended", metadata: metadata)
        notify(job) { $0.jobEnded(result) }
        handles.removeValue(forKey: job.job.jobID)?.complete(result)
        if jobs.isEmpty {
            timer?.cancel()
            timer = nil
        }
    }

    // MARK: Executor health

    private func isExcluded(_ state: ExecutorState) -> Bool {
        guard let until = state.excludedUntil else { return false }
        return DispatchTime.now() < until
    }

    private func noteFailure(on id: ExecutorID, message: String) {
        guard var state = executors[id] else { return }
        state.consecutiveFailures += 1
        defer { executors[id] = state }
        guard settings.excludeOnFailure, state.consecutiveFailures >= settings.excludeThreshold,
              !isExcluded(state) else { return }
        // Never exclude the last usable executor: the job could not go on at all.
        let othersUsable = executorOrder.contains { $0 != id && executors[$0].map { !isExcluded($0) } == true }
        guard othersUsable else { return }
        state.excludedUntil = .now() + settings.excludeTimeout
        state.consecutiveFailures = 0
        let reason = "\(settings.excludeThreshold) task failures in a row; last: \(message)"
        logger.warning("executor excluded", metadata: ["executor": "\(id)", "reason": "\(reason)"])
        let until = Date(timeIntervalSinceNow: settings.excludeTimeout)
        notifyAll { $0.executorExcluded(id, until: until, reason: reason) }
    }

    // MARK: Periodic checks

    private func startTimerIfNeeded() {
        guard timer == nil else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let interval = settings.speculationInterval
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.periodicCheck() }
        timer.resume()
        self.timer = timer
    }

    /// Finds stragglers and lets executors whose exclusion expired take work again.
    private func periodicCheck() {
        if settings.speculation {
            for job in jobs {
                guard let threshold = job.speculationThreshold(settings) else { continue }
                for attempt in attempts.values where attempt.job === job && !attempt.cancelled && !attempt.speculative
                && attempt.started.map({ seconds(since: $0) > threshold }) == true {
                    job.markSpeculatable(attempt.partition)
                }
            }
        }
        for id in executorOrder where executors[id]?.excludedUntil.map({ DispatchTime.now() >= $0 }) == true {
            executors[id]?.excludedUntil = nil
            logger.info("executor exclusion expired", metadata: ["executor": "\(id)"])
        }
        launchTasks()
    }

    // MARK: Helpers

    private func seconds(since time: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - time.uptimeNanoseconds) / 1e9
    }

    private func endEvent(_ id: TaskAttemptID, _ executor: ExecutorID, speculative: Bool, duration: Double,
                          _ outcome: TaskEndEvent.Outcome) -> TaskEndEvent {
        TaskEndEvent(attempt: id, executor: executor, speculative: speculative, duration: duration, outcome: outcome)
    }

    private func notify(_ job: TaskSetManager, _ body: (any JobListener) -> Void) {
        listeners.forEach(body)
        job.job.options.listener.map(body)
    }

    private func notifyAll(_ body: (any JobListener) -> Void) {
        listeners.forEach(body)
        var seen = Set<ObjectIdentifier>()
        for job in jobs {
            guard let listener = job.job.options.listener, seen.insert(ObjectIdentifier(listener)).inserted else { continue }
            body(listener)
        }
    }
}
