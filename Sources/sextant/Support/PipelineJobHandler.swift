import Cluster
import Engine
import Foundation
import Logging
import Monitor
import Pipeline

/// The master's driver for submitted jobs: Pipeline's `ExtractionDriver.forSubmission` over
/// the cluster's executors, the job's running totals as its progress, and the monitor told.
final class PipelineJobHandler: JobHandler, Sendable {
    let configuration: Configuration
    /// Hears every job's events when the master serves a UI or keeps event logs.
    let monitor: Monitor?
    let logger = Logger(label: "sextant.master")

    init(configuration: Configuration, monitor: Monitor? = nil) {
        self.configuration = configuration
        self.monitor = monitor
    }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        if let merge = SkyMergeSpec.submitted(job.payload) {
            return try runMerge(merge, job: job, backend: backend, context: context)
        }
        let (driver, ignored) = try ExtractionDriver.forSubmission(payload: job.loadPayload(), jobID: job.id,
                                                                   resumed: job.resumed, masterSettings: configuration.values)
        if !ignored.isEmpty {
            logger.warning("job \(job.id): ignored settings only the master's own conf may set: \(ignored.joined(separator: ", "))")
        }
        let encoder = JSONEncoder()
        // Totals, not entries: the master coalesces progress frames, and the latest must say it all.
        let totals = JobProgressTotals()
        driver.onEntry = { entry in context.progress(totals.add(entry).encoded) }
        if let monitor { JobMonitoring.attach(monitor, to: driver, spec: driver.spec, submitted: job.submitted) }
        // Weak: the driver's onEntry holds the context, so a strong capture here kept every job's
        // driver (its inputs and entries) alive after the job ended.
        context.onCancel { [weak driver] in driver?.cancel() }
        let report: JobReport
        do {
            report = try driver.run(backend: backend)
        } catch {
            monitor.map { JobMonitoring.ended($0, jobID: job.id, status: JobStatus.failed.rawValue, message: "\(error)") }
            throw error
        }
        let status = report.jobStatus(cancelled: context.isCancelled)
        monitor.map { JobMonitoring.ended($0, jobID: job.id, status: status.rawValue, message: report.summary) }
        return JobOutcome(status: status, message: report.summary, counts: report.counts,
                          detail: try encoder.encode(report))
    }
}

/// An executor's tasks run with this executor's own host settings (HostSettings.pin): a job
/// cannot point its S3 credentials elsewhere or widen sextant.executor.allowedRoots.
final class HostPinnedTaskHandler: TaskHandler, Sendable {
    private let wrapped: TaskHandler
    private let host: [String: String]

    init(_ wrapped: TaskHandler, host: [String: String]) {
        self.wrapped = wrapped
        self.host = host
    }

    func run(_ spec: TaskSpec, executor: ExecutorID) -> TaskResult {
        var spec = spec
        spec.settings = HostSettings.pin(spec.settings, host: host)
        return wrapped.run(spec, executor: executor)
    }

    func start(_ spec: TaskSpec, executor: ExecutorID, done: @escaping @Sendable (TaskResult) -> Void) -> Bool {
        var spec = spec
        spec.settings = HostSettings.pin(spec.settings, host: host)
        return wrapped.start(spec, executor: executor, done: done)
    }

    func cancel(_ id: TaskAttemptID) { wrapped.cancel(id) }

    // The worker processes' queue (issue 12): without these the protocol's defaults would hide it.
    var tasksAhead: Int { wrapped.tasksAhead }
    var startsWithoutBlocking: Bool { wrapped.startsWithoutBlocking }
    func withdrawQueued(timeout: TimeInterval) -> [TaskAttemptID] { wrapped.withdrawQueued(timeout: timeout) }
}

enum AccessWarning {
    /// Said once at start when sextant.executor.allowedRoots leaves everything open.
    static func warnIfUnrestricted(_ conf: [String: String], process: String) {
        guard !AllowedRoots(settings: conf).isRestricted else { return }
        Console.info("sextant \(process): warning: \(AllowedRoots.key) is not set: jobs may read and write "
                     + "anything this process can")
    }
}
