import Cluster
import Engine
import Foundation
import Monitor
import Pipeline

/// The master's driver for submitted jobs: decodes the JobSpec, runs it with the engine's
/// scheduler over the cluster's executors, and streams one progress message per input.
final class PipelineJobHandler: JobHandler, @unchecked Sendable {
    let configuration: Configuration
    /// Hears every job's events when the master serves a UI or keeps event logs.
    let monitor: Monitor?

    init(configuration: Configuration, monitor: Monitor? = nil) {
        self.configuration = configuration
        self.monitor = monitor
    }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        var spec = try JSONDecoder().decode(JobSpec.self, from: job.payload)
        spec.jobID = job.id
        // Re-queued after a master restart: keep the catalogs the cut-off run committed.
        if job.resumed { spec.resume = true }
        // The master's own conf (its S3 credentials, its limits) fills what the job left out.
        spec.settings = configuration.values.merging(spec.settings) { _, job in job }
        let engineSettings = try EngineSettings(Configuration(spec.settings))
        let driver = ExtractionDriver(spec: spec, engineSettings: engineSettings)
        driver.tasksLeaveThisProcess = true
        let encoder = JSONEncoder()
        driver.onEntry = { entry in
            if let data = try? encoder.encode(entry) { context.progress(data) }
        }
        if let monitor { JobMonitoring.attach(monitor, to: driver, spec: spec, submitted: job.submitted) }
        context.onCancel { driver.cancel() }
        let report: JobReport
        do {
            report = try driver.run(backend: backend)
        } catch {
            monitor.map { JobMonitoring.ended($0, jobID: job.id, status: "failed", message: "\(error)") }
            throw error
        }
        let status: JobStatus = context.isCancelled ? .cancelled
            : report.status == .succeeded ? .succeeded : .failed
        monitor.map { JobMonitoring.ended($0, jobID: job.id, status: status.rawValue, message: report.summary) }
        return JobOutcome(status: status, message: report.summary,
                          counts: ["inputs": report.inputs, "committed": report.committed, "skipped": report.skipped,
                                   "failed": report.failed, "sources": report.sources],
                          detail: try encoder.encode(report))
    }
}

/// The engine's TaskRunner already has the executor daemon's TaskHandler shape.
extension TaskRunner: TaskHandler {}
