import Engine
import Foundation
import Logging
import NIOCore

/// The job table and the queue. Up to `maxRunning` jobs run at once, each on its own thread with
/// its own driver; the executors' slots are shared among them by the registry's `SlotArbiter`
/// (fair-scheduler pools). Further jobs wait as `queued`, FIFO.
/// @unchecked: `condition` guards the tables, the queue and `stopping`; `thread` is set by
/// `start` and `onFinish` before it.
final class JobManager: @unchecked Sendable {
    private let handler: JobHandler
    private let history: JobHistory
    private let registry: ExecutorRegistry
    private let logger: Logger
    private let maxRunning: Int

    private let condition = NSCondition()
    private var records: [String: JobRecord] = [:]
    private var queue: [SubmittedJob] = []
    private var waiters: [String: [Channel]] = [:]
    /// The last progress of each running job, replayed to clients that start waiting late.
    private var latestProgress: [String: Data] = [:]
    /// When each running job's progress last went to its waiters, and the jobs whose latest
    /// progress is held back for a flush (`forward` coalesces).
    private var progressSent: [String: DispatchTime] = [:]
    private var progressHeld: Set<String> = []
    /// At most one progress frame a job per this interval goes to each waiter: a job's handler
    /// reports cumulative progress, so the latest says everything the skipped ones did.
    let progressInterval: TimeInterval
    private var running: [String: JobContext] = [:]
    private var stopping = false
    private var thread: Thread?
    /// Told of every job that ended (not interrupted), after its record is saved: the webhook.
    var onFinish: (@Sendable (JobRecord) -> Void)?

    init(handler: JobHandler, history: JobHistory, registry: ExecutorRegistry, logger: Logger, maxRunning: Int = 16,
         progressInterval: TimeInterval = 0.1) {
        self.handler = handler
        self.progressInterval = progressInterval
        self.maxRunning = max(1, maxRunning)
        self.history = history
        self.registry = registry
        self.logger = logger
    }

    func start() throws {
        let loaded = try history.load()
        condition.lock()
        for record in loaded.records { records[record.id] = record }
        queue = loaded.requeued
        condition.unlock()
        let thread = Thread { [self] in runLoop() }
        thread.name = "sextant-master-jobs"
        self.thread = thread
        thread.start()
    }

    /// Stops taking jobs; the running ones are cancelled and, with those queued, recorded as
    /// interrupted (a master restarted on the same history directory runs them again).
    func stop() {
        condition.lock()
        stopping = true
        let contexts = Array(running.values)
        let unfinished = records.values.filter { !$0.status.isFinished }
        queue = []
        condition.broadcast()
        condition.unlock()
        contexts.forEach { $0.cancel() }
        for var record in unfinished {
            record.status = .interrupted
            record.finished = Date()
            record.outcome = JobOutcome(status: .interrupted, message: "the master stopped; it resumes the job when it restarts")
            finish(record)
        }
    }

    // MARK: Requests from clients

    /// Queues a job. The id is reserved under the lock; the history files are written outside
    /// it (other requests and the run loop need not wait for a disk), then the job is queued.
    func submit(_ request: SubmitRequest, by principal: Principal = .local) throws -> JobRecord {
        let id = request.jobID ?? Self.makeJobID()
        try Self.validate(jobID: id)
        let pool = try Self.pool(of: request.settings)
        var job = SubmittedJob(id: id, payload: request.payload, settings: request.settings, user: principal.name)
        let record = JobRecord(id: id, submitted: job.submitted, status: .queued, user: principal.name, pool: pool)
        try condition.withLock {
            guard !stopping else { throw ClusterError.requestFailed("the master is stopping") }
            guard records[id] == nil else { throw ClusterError.requestFailed("job id '\(id)' already exists") }
            records[id] = record
        }
        do {
            job = try history.saveSubmission(job)
            try history.save(record)
        } catch {
            condition.withLock { records[id] = nil }
            throw error
        }
        let waiting: Int? = condition.withLock {
            // Cancelled while its files were being written: it never enters the queue.
            guard records[id]?.status == .queued, !stopping else { return nil }
            queue.append(job)
            condition.signal()
            return queue.count
        }
        if let waiting { logger.info("job \(id) queued (\(waiting) waiting)") }
        return record
    }

    enum WaitStart {
        case finished(JobRecord)
        case waiting(latestProgress: Data?)
    }

    /// Streams the job's progress to `channel`, then its final record. When the job has already
    /// ended, returns its record and registers nothing.
    func addWaiter(_ channel: Channel, for id: String, by principal: Principal = .local) throws -> WaitStart {
        condition.lock(); defer { condition.unlock() }
        let record = try visibleRecord(id, to: principal)
        if record.status.isFinished { return .finished(record) }
        waiters[id, default: []].append(channel)
        return .waiting(latestProgress: latestProgress[id])
    }

    /// Clients waiting on a job (for tests and status displays).
    func waiterCount(for id: String) -> Int {
        condition.lock(); defer { condition.unlock() }
        return waiters[id]?.count ?? 0
    }

    func removeWaiter(_ channel: Channel) {
        condition.lock(); defer { condition.unlock() }
        for id in waiters.keys { waiters[id]?.removeAll { $0 === channel } }
    }

    /// The jobs `principal` may see: a user's own, every job for an admin.
    func status(of id: String?, by principal: Principal = .local) throws -> [JobRecord] {
        condition.lock(); defer { condition.unlock() }
        guard let id else { return records.values.filter(principal.owns).sorted(by: JobRecord.bySubmission) }
        return [try visibleRecord(id, to: principal)]
    }

    /// Another user's job is answered as if it did not exist: its id tells nothing.
    private func visibleRecord(_ id: String, to principal: Principal) throws -> JobRecord {
        guard let record = records[id], principal.owns(record) else { throw ClusterError.requestFailed("no job '\(id)'") }
        return record
    }

    /// A queued job is dropped at once; a running one is asked to stop through its context.
    func cancel(_ id: String, by principal: Principal = .local) throws -> JobRecord {
        condition.lock()
        guard var record = records[id], principal.owns(record) else {
            condition.unlock()
            throw ClusterError.requestFailed("no job '\(id)'")
        }
        if record.status == .queued {
            queue.removeAll { $0.id == id }
            condition.unlock()
            record.status = .cancelled
            record.finished = Date()
            record.outcome = JobOutcome(status: .cancelled, message: "cancelled before it started")
            finish(record)
            return record
        }
        let context = running[id]
        condition.unlock()
        if let context {
            logger.info("cancelling job \(id)")
            context.cancel()
        }
        return record
    }

    // MARK: Running

    /// Starts each queued job, oldest first, as soon as fewer than `maxRunning` run.
    private func runLoop() {
        while let job = nextJob() {
            let context = JobContext { [weak self] data in self?.forward(data, of: job.id) }
            guard let record = markRunning(job, context: context) else { continue }
            let thread = Thread { [self] in run(job, record: record, context: context) }
            thread.name = "sextant-job-\(job.id.prefix(32))"
            thread.start()
        }
    }

    private func run(_ job: SubmittedJob, record: JobRecord, context: JobContext) {
        var record = record
        let resumed = job.resumed ? " (resumed after a master restart)" : ""
        logger.info("job \(job.id) started in pool \(record.pool ?? PoolDefinition.defaultName)\(resumed)")
        let backend = ClusterBackend(registry: registry, logger: logger, pool: record.pool ?? PoolDefinition.defaultName)
        let outcome: JobOutcome
        do {
            outcome = try handler.run(job, backend: backend, context: context)
        } catch {
            outcome = JobOutcome(status: .failed, message: "\(error)")
        }
        backend.stop()
        condition.lock()
        running[job.id] = nil
        let stopped = stopping
        condition.broadcast()
        condition.unlock()
        if stopped { return }  // recorded as interrupted by stop()
        record.status = outcome.status.isFinished ? outcome.status : .failed
        record.finished = Date()
        record.outcome = outcome
        logger.info("job \(job.id) \(record.status.rawValue)\(outcome.message.isEmpty ? "" : ": \(outcome.message)")")
        finish(record)
    }

    private func nextJob() -> SubmittedJob? {
        condition.lock(); defer { condition.unlock() }
        while (queue.isEmpty || running.count >= maxRunning) && !stopping { condition.wait() }
        return stopping ? nil : queue.removeFirst()
    }

    private func markRunning(_ job: SubmittedJob, context: JobContext) -> JobRecord? {
        condition.lock(); defer { condition.unlock() }
        guard var record = records[job.id], record.status == .queued else { return nil }
        record.status = .running
        record.started = Date()
        records[job.id] = record
        running[job.id] = context
        do { try history.save(record) } catch { logger.error("cannot save job \(job.id): \(error)") }
        return record
    }

    /// Passes a job's progress on to its waiters, coalesced: at most one frame per
    /// `progressInterval`, the latest, so a job of 10^6 inputs does not push 10^6 frames at a
    /// client (nor queue them unbounded on its channel). A report held back goes out when the
    /// interval ends, and before the job's final record in any case.
    private func forward(_ data: Data, of id: String) {
        condition.lock(); defer { condition.unlock() }
        latestProgress[id] = data
        let now = DispatchTime.now()
        if let last = progressSent[id], now.uptimeNanoseconds - last.uptimeNanoseconds < intervalNanoseconds {
            if progressHeld.insert(id).inserted {
                DispatchQueue.global().asyncAfter(deadline: last + progressInterval) { [weak self] in
                    self?.flushProgress(of: id)
                }
            }
            return
        }
        progressSent[id] = now
        send(data, of: id)
    }

    /// Sends the progress held back for `id`, if the job still runs and something is held.
    private func flushProgress(of id: String) {
        condition.lock(); defer { condition.unlock() }
        guard progressHeld.remove(id) != nil, let data = latestProgress[id] else { return }
        progressSent[id] = DispatchTime.now()
        send(data, of: id)
    }

    private var intervalNanoseconds: UInt64 { UInt64(max(0, progressInterval) * 1e9) }

    /// Queues the frame on each waiter's channel. Holds `condition`, so frames leave in the order
    /// they were taken and none after the job's final record.
    private func send(_ data: Data, of id: String) {
        for channel in waiters[id] ?? [] {
            channel.writeAndFlush(Message.jobProgress(JobProgress(jobID: id, data: data)), promise: nil)
        }
    }

    /// Records the final state, saves it, and ends every wait on the job.
    private func finish(_ record: JobRecord) {
        condition.lock()
        records[record.id] = record
        // The last report held back goes first, so a waiter's final progress is exact.
        if progressHeld.remove(record.id) != nil, let held = latestProgress[record.id] { send(held, of: record.id) }
        latestProgress[record.id] = nil
        progressSent[record.id] = nil
        let channels = waiters.removeValue(forKey: record.id) ?? []
        condition.unlock()
        do { try history.save(record) } catch { logger.error("cannot save job \(record.id): \(error)") }
        // An interrupted job keeps its submission: the next master runs it again.
        if record.status != .interrupted { history.removeSubmission(of: record.id) }
        for channel in channels { channel.writeAndFlush(Message.jobFinished(record), promise: nil) }
        if record.status != .interrupted { onFinish?(record) }
    }

    // MARK: Job ids and pools

    /// The pool a submission names (`sextant.scheduler.pool`), else the default pool.
    static func pool(of settings: [String: String]) throws -> String {
        guard let name = settings[SchedulerKeys.pool.name], !name.isEmpty else { return PoolDefinition.defaultName }
        guard PoolDefinition.isValidName(name) else {
            throw ClusterError.requestFailed("invalid pool '\(name)' (\(SchedulerKeys.pool.name)): use 1-128 letters, digits, '.', '_' or '-'")
        }
        return name
    }

    static func validate(jobID: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !jobID.isEmpty, jobID.count <= 128, jobID.allSatisfy(allowed.contains),
              jobID.first != ".", jobID.first != "-" else {
            throw ClusterError.requestFailed(
                "invalid job id '\(jobID)': use 1-128 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        }
    }

    static func makeJobID() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let suffix = (0..<4).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        return "job-\(formatter.string(from: Date()))-\(suffix)"
    }
}
