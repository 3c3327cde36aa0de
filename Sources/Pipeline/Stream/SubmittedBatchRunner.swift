import Engine
import Foundation

/// What a stream needs of a cluster master (the CLI adapts `ClusterClient`; Pipeline does not
/// see the wire).
public protocol BatchSubmitter: AnyObject, Sendable {
    /// The job's status, or nil when the master has no such job.
    func status(of jobID: String) throws -> JobStatus?
    /// `settings`: what the master reads from the request itself (the fair-scheduler pool).
    func submit(_ payload: Data, jobID: String, settings: [String: String]) throws
    /// Blocks until the job ends; returns its final status.
    func wait(for jobID: String) throws -> JobStatus
    func cancel(_ jobID: String) throws
}

/// Batches as ordinary jobs on a master: the stream process watches and submits, the master's
/// driver runs each batch as it runs any job (its scheduler, its executors, its manifest), so a
/// stream never holds the master. After a restart, a cut-off batch the master still runs is
/// waited for, not submitted twice.
/// @unchecked: `lock` guards `current` and `cancelledHere`; `onCancelledElsewhere` is set before the first batch.
public final class SubmittedBatchRunner: StreamBatchRunner, @unchecked Sendable {
    private let submitter: BatchSubmitter
    private let lock = NSLock()
    private var current: String?
    private var cancelledHere = false
    /// Called when a batch was cancelled by someone else (`sextant cancel JOB`): the stream stops.
    public var onCancelledElsewhere: (@Sendable () -> Void)?

    public init(submitter: BatchSubmitter) { self.submitter = submitter }

    public func run(_ spec: JobSpec) throws {
        var jobID = spec.jobID
        if spec.resume, let status = try submitter.status(of: jobID) {
            switch status {
            case .queued, .running:
                return try follow(jobID)
            case .succeeded, .completedWithFailures, .failed:
                return  // it ended after the stream was cut off: its manifest is in the output
            case .cancelled, .interrupted:
                jobID += "-r" + String(Int(Date().timeIntervalSince1970))
            }
        }
        var shipped = spec
        shipped.jobID = jobID
        let pool = spec.settings[SchedulerKeys.pool.name].map { [SchedulerKeys.pool.name: $0] } ?? [:]
        try submitter.submit(try shipped.submissionPayload(), jobID: jobID, settings: pool)
        try follow(jobID)
    }

    private func follow(_ jobID: String) throws {
        let stop = lock.withLock { () -> Bool in
            current = jobID
            return cancelledHere
        }
        if stop { try? submitter.cancel(jobID) }
        defer { lock.withLock { current = nil } }
        let status = try submitter.wait(for: jobID)
        if status == .cancelled, !lock.withLock({ cancelledHere }) { onCancelledElsewhere?() }
    }

    public func cancel() {
        let jobID = lock.withLock { () -> String? in
            cancelledHere = true
            return current
        }
        if let jobID { try? submitter.cancel(jobID) }
    }
}
