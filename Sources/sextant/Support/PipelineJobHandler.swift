import Cluster
import Engine
import Foundation
import Monitor
import Pipeline

/// The master's driver for submitted jobs: Pipeline's `ExtractionDriver.forSubmission` over
/// the cluster's executors, one progress message per input, and the monitor told.
final class PipelineJobHandler: JobHandler, @unchecked Sendable {
    let configuration: Configuration
    /// Hears every job's events when the master serves a UI or keeps event logs.
    let monitor: Monitor?

    init(configuration: Configuration, monitor: Monitor? = nil) {
        self.configuration = configuration
        self.monitor = monitor
    }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        let driver = try ExtractionDriver.forSubmission(payload: job.payload, jobID: job.id, resumed: job.resumed,
                                                        masterSettings: configuration.values)
        let encoder = JSONEncoder()
        driver.onEntry = { entry in
            if let data = try? encoder.encode(entry) { context.progress(data) }
        }
        if let monitor { JobMonitoring.attach(monitor, to: driver, spec: driver.spec, submitted: job.submitted) }
        context.onCancel { driver.cancel() }
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

/// The engine's TaskRunner already has the executor daemon's TaskHandler shape.
extension TaskRunner: TaskHandler {}
