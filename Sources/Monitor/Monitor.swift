import Engine
import Foundation
import Logging

/// The monitor: takes job events (live from the scheduler, or replayed from event logs),
/// keeps each job's state and the process's metrics, writes the event log, and answers the
/// UI's and API's questions. Thread-safe; every method is short.
/// @unchecked: `lock` guards `jobs`, `executorsSeen`, `metrics` and `cancelActions`.
public final class Monitor: @unchecked Sendable {
    public let settings: MonitorSettings
    private let host: MonitorHost?
    private let logger: Logger
    private let eventLog: EventLog?

    private let lock = NSLock()
    private var jobs: [String: JobState] = [:]
    private var executorsSeen: [String: (info: HostExecutor, connected: Bool)] = [:]
    private var metrics = Metrics()
    private var cancelActions: [String: @Sendable () -> Void] = [:]
    /// Live streams (`StreamView`), beside the jobs.
    let streams = StreamBoard()

    public init(settings: MonitorSettings, host: MonitorHost? = nil,
                logger: Logger = Logger(label: "sextant.monitor")) throws {
        self.settings = settings
        self.host = host
        self.logger = logger
        eventLog = try settings.eventLogDirectory.map { try EventLog(directory: $0, logger: logger) }
    }

    // MARK: Events in

    /// Applies a live event: state, metrics, and the event log.
    public func record(_ event: MonitorEvent) {
        lock.lock(); defer { lock.unlock() }
        // Queued, in order, to the log's own writer: no disk write under the lock or on the caller's queue.
        eventLog?.append(event)
        if event.event == .jobEnd {
            // Attempts the engine never reported ended end with the job (as its page shows them).
            for task in jobs[event.job]?.runningTasks ?? [] {
                var end = MonitorEvent(.taskEnd, job: event.job, time: event.time)
                end.outcome = "cancelled"
                end.duration = event.time.timeIntervalSince(task.started)
                metrics.record(end)
            }
        }
        if apply(event) { metrics.record(event) }
    }

    /// Rebuilds past jobs from the event logs (jobs already known are left alone). Returns how many.
    @discardableResult
    public func loadHistory() -> Int {
        guard let eventLog else { return 0 }
        let logs = eventLog.readAll()
        lock.lock(); defer { lock.unlock() }
        var loaded = 0
        for events in logs {
            guard let id = events.first?.job, jobs[id] == nil else { continue }
            var state = JobState(id: id)
            for event in events where event.job == id { state.apply(event) }
            if state.finished == nil {
                state.status = "interrupted"
                state.message = "the process running it stopped before it ended"
                state.finished = events.last?.time
            }
            jobs[id] = state
            loaded += 1
        }
        return loaded
    }

    /// A listener for one job's scheduler events. `inputNames` names the inputs in a
    /// succeeded task's output records (the records are the host's JSON).
    public func listener(forJob id: String,
                         inputNames: @escaping @Sendable ([Data]) -> [String] = { _ in [] }) -> any JobListener {
        EngineEventListener(jobID: id, monitor: self, inputNames: inputNames)
    }

    /// How to stop a job the monitor cannot stop through a host (a local run).
    public func setCancelAction(for id: String, _ action: (@Sendable () -> Void)?) {
        lock.lock(); defer { lock.unlock() }
        cancelActions[id] = action
    }

    @discardableResult
    private func apply(_ event: MonitorEvent) -> Bool {
        switch event.event {
        case .executorAdded:
            guard let id = event.executor else { return false }
            executorsSeen[id] = (HostExecutor(id: id, host: event.host ?? "", cores: event.cores ?? 0), true)
        case .executorLost:
            guard let id = event.executor else { return false }
            executorsSeen[id]?.connected = false
        default:
            return jobs[event.job, default: JobState(id: event.job)].apply(event)
        }
        return true
    }

    // MARK: Questions out

    /// Every job the host or the event logs know, newest first.
    public func jobSummaries(now: Date = Date()) -> [JobSummary] {
        let hostJobs = host?.jobTable() ?? []
        lock.lock(); defer { lock.unlock() }
        var rows = hostJobs.map { JobSummary(jobs[$0.id], host: $0, now: now) }
        let known = Set(hostJobs.map(\.id))
        rows += jobs.values.filter { !known.contains($0.id) }.map { JobSummary($0, host: nil, now: now) }
        return rows.sorted { ($0.submitted ?? .distantPast, $0.id) > ($1.submitted ?? .distantPast, $1.id) }
    }

    public func jobDetail(_ id: String, now: Date = Date()) -> JobDetail? {
        let hostJob = host?.jobTable().first { $0.id == id }
        lock.lock(); defer { lock.unlock() }
        let state = jobs[id]
        guard state != nil || hostJob != nil else { return nil }
        return JobDetail(job: JobSummary(state, host: hostJob, now: now),
                         tasksRunning: state?.tasksRunning ?? 0,
                         tasksEnded: state?.tasksEnded ?? 0, tasksKept: state?.tasksKept ?? 0,
                         failures: state?.failures ?? [], slowestTasks: state?.slowestTasks() ?? [],
                         executors: state?.executorList ?? [])
    }

    /// The job's frame table as far as the monitor kept it; nil for a job it does not know.
    public func frames(of id: String) -> FrameList? {
        let hostKnows = host?.jobTable().contains { $0.id == id } ?? false
        lock.lock(); defer { lock.unlock() }
        guard let state = jobs[id] else { return hostKnows ? FrameList(job: id, frames: [], dropped: 0) : nil }
        return FrameList(job: id, frames: state.frames, dropped: state.framesDropped)
    }

    /// The attempts kept of job `id` (running ones and the latest ended: `JobState.taskWindow`),
    /// by partition then attempt, from `offset`, at most `limit` of them; nil for an unknown job.
    public func tasks(of id: String, offset: Int = 0, limit: Int = Int.max) -> [TaskRecord]? {
        let hostKnows = host?.jobTable().contains { $0.id == id } ?? false
        lock.lock(); defer { lock.unlock() }
        guard let list = jobs[id]?.taskList else { return hostKnows ? [] : nil }
        let start = min(max(0, offset), list.count)
        return Array(list[start..<min(list.count, start + max(0, min(limit, list.count)))])
    }

    /// Connected executors (the host's when there is one), then those lost, with task counts over all jobs.
    public func executorSummaries() -> [ExecutorSummary] {
        let hostExecutors = host?.executorTable()
        lock.lock(); defer { lock.unlock() }
        var totals: [String: ExecutorFigures] = [:]
        for job in jobs.values {
            for figures in job.executors.values {
                var total = totals[figures.executor, default: ExecutorFigures(executor: figures.executor)]
                total.tasksRunning += figures.tasksRunning
                total.tasksSucceeded += figures.tasksSucceeded
                total.tasksFailed += figures.tasksFailed
                totals[figures.executor] = total
            }
        }
        let connected = hostExecutors ?? executorsSeen.values.filter(\.connected).map(\.info)
        let connectedIDs = Set(connected.map(\.id))
        let lost = executorsSeen.values.filter { !connectedIDs.contains($0.info.id) }.map(\.info)
        func row(_ info: HostExecutor, connected: Bool) -> ExecutorSummary {
            let figures = totals[info.id] ?? ExecutorFigures(executor: info.id)
            return ExecutorSummary(id: info.id, host: info.host, cores: info.cores, connected: connected,
                                   tasksRunning: figures.tasksRunning, tasksSucceeded: figures.tasksSucceeded,
                                   tasksFailed: figures.tasksFailed, heartbeatAgeSeconds: info.heartbeatAge,
                                   memoryBytes: info.memoryBytes)
        }
        return connected.sorted { $0.id < $1.id }.map { row($0, connected: true) }
            + lost.sorted { $0.id < $1.id }.map { row($0, connected: false) }
    }

    /// The Prometheus exposition text.
    public func metricsText() -> String {
        let executors = executorSummaries().filter(\.connected).count
        let running = jobSummaries().filter { $0.status == "running" }.count
        lock.lock(); defer { lock.unlock() }
        let tasksRunning = jobs.values.reduce(0) { $0 + $1.tasksRunning }
        return metrics.render(executors: executors, tasksRunning: tasksRunning, jobsRunning: running)
    }

    /// The host as a portal (a master), when it is one.
    var portal: PortalHost? { host as? PortalHost }

    /// The job's event log, when event logs are kept.
    public func eventLogFile(of id: String) -> URL? {
        eventLog.map { $0.file(for: id) }.flatMap { FileManager.default.fileExists(atPath: $0.path) ? $0 : nil }
    }

    /// Stops job `id` through the host, or the action a local run registered.
    public func cancel(_ id: String) throws {
        if let host {
            try host.cancel(jobID: id)
            return
        }
        lock.lock()
        let action = cancelActions[id]
        let known = jobs[id] != nil
        lock.unlock()
        guard let action else {
            throw known ? MonitorError.cannotCancel(id, reason: "it is not running") : MonitorError.noSuchJob(id)
        }
        logger.info("cancelling job \(id) from the web UI")
        action()
    }

    /// Closes the event logs.
    public func close() {
        lock.lock(); defer { lock.unlock() }
        eventLog?.closeAll()
    }
}
