import Foundation
import Logging

/// The job table on disk: one `<job id>.json` per job under `sextant.master.historyDir`,
/// replaced atomically on every change so a crash leaves either the old or the new record.
/// Beside it, `<job id>.submission` (settings, time, restarts) and `<job id>.payload` (the bytes
/// the client sent, as received: no re-encoding, and the master need not hold them while the job
/// waits or runs) keep the job as submitted until it ends, so a master that crashed or was
/// stopped mid-job can run it again on restart.
struct JobHistory {
    let directory: URL?
    let logger: Logger
    /// Restarts a job may be resumed through; after that it is left `interrupted`, so a job
    /// that brings the master down cannot keep doing so.
    var maxResumes = 3

    /// What `load` found: every record, and the unfinished jobs to run again, oldest first.
    struct Loaded {
        var records: [JobRecord]
        var requeued: [SubmittedJob]
    }

    /// The submission as kept on disk, but for its payload (in its own file; histories written
    /// before that kept it here, base64-encoded, and are still read).
    private struct StoredSubmission: Codable {
        var payload: Data?
        var settings: [String: String]
        var submitted: Date
        /// Times a restarted master has re-queued the job.
        var resumes: Int
    }

    /// Loads every record. Jobs left queued, running or interrupted by a previous master are
    /// queued again when their submission was kept (resumed when they had started); the
    /// others become `interrupted`.
    func load() throws -> Loaded {
        guard let directory else { return Loaded(records: [], requeued: []) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
        var loaded = Loaded(records: [], requeued: [])
        for file in files {
            do {
                var record = try Self.decoder.decode(JobRecord.self, from: Data(contentsOf: file))
                if !record.status.isFinished || record.status == .interrupted {
                    if let job = try requeue(&record) {
                        loaded.requeued.append(job)
                    } else if record.status != .interrupted {
                        let was = record.status
                        record.status = .interrupted
                        record.finished = Date()
                        record.outcome = JobOutcome(status: .interrupted,
                                                    message: "the master stopped while the job was \(was.rawValue); resubmit to resume")
                    }
                    try save(record)
                } else {
                    removeSubmission(of: record.id)  // a crash between saving the end and this removal
                }
                loaded.records.append(record)
            } catch {
                logger.error("skipping unreadable job record \(file.path): \(error)")
            }
        }
        loaded.records.sort(by: JobRecord.bySubmission)
        loaded.requeued.sort { ($0.submitted, $0.id) < ($1.submitted, $1.id) }
        return loaded
    }

    /// Queues the job of `record` again if its submission was kept and it has resumes left.
    private func requeue(_ record: inout JobRecord) throws -> SubmittedJob? {
        guard let file = submissionFile(record.id), FileManager.default.fileExists(atPath: file.path) else { return nil }
        var stored = try Self.decoder.decode(StoredSubmission.self, from: Data(contentsOf: file))
        guard stored.resumes < maxResumes else {
            logger.warning("job \(record.id) was cut off by \(stored.resumes + 1) master restarts; not resuming it again")
            removeSubmission(of: record.id)
            record.status = .interrupted
            record.finished = Date()
            record.outcome = JobOutcome(status: .interrupted,
                                        message: "the master stopped during this job \(stored.resumes + 1) times; resubmit with --resume")
            return nil
        }
        let started = record.started != nil
        if started {
            stored.resumes += 1
            try Self.encoder.encode(stored).write(to: file, options: .atomic)
        }
        record.status = .queued
        record.finished = nil
        record.outcome = nil
        logger.info("job \(record.id) queued again after a master restart\(started ? " (resuming)" : "")")
        let payload: SubmittedJob.Stored = stored.payload.map { .bytes($0) } ?? .file(payloadFile(of: file))
        return SubmittedJob(id: record.id, stored: payload, settings: stored.settings,
                            submitted: record.submitted, resumed: started, user: record.user)
    }

    func save(_ record: JobRecord) throws {
        guard let directory else { return }
        let file = directory.appendingPathComponent("\(record.id).json")
        try Self.encoder.encode(record).write(to: file, options: .atomic)
    }

    /// Keeps the job as submitted until `removeSubmission`, for a restarted master; returns the
    /// job with its payload left on disk (the same job when there is no history directory).
    /// The payload goes first: a `.submission` file always has its payload beside it.
    func saveSubmission(_ job: SubmittedJob) throws -> SubmittedJob {
        guard let file = submissionFile(job.id) else { return job }
        let payload = payloadFile(of: file)
        try job.loadPayload().write(to: payload, options: .atomic)
        let stored = StoredSubmission(payload: nil, settings: job.settings, submitted: job.submitted, resumes: 0)
        try Self.encoder.encode(stored).write(to: file, options: .atomic)
        return job.keptIn(payload)
    }

    /// Drops a finished job's submission (it will not run again).
    func removeSubmission(of id: String) {
        guard let file = submissionFile(id) else { return }
        try? FileManager.default.removeItem(at: file)
        try? FileManager.default.removeItem(at: payloadFile(of: file))
    }

    private func payloadFile(of submission: URL) -> URL {
        submission.deletingPathExtension().appendingPathExtension("payload")
    }

    private func submissionFile(_ id: String) -> URL? {
        directory?.appendingPathComponent("\(id).submission")
    }

    private static let encoder = JSONCoding.encoder(pretty: true)
    private static let decoder = JSONCoding.decoder()
}
