import Foundation

/// A jobs-table row, as the UI and `GET /api/v1/jobs` show it.
public struct JobSummary: Codable, Sendable, Equatable {
    public var id: String
    public var submitted: Date?
    public var started: Date?
    public var finished: Date?
    public var status: String
    public var message: String
    public var inputsTotal: Int
    public var inputsDone: Int
    public var inputsFailed: Int
    /// Inputs `--where` left out (nil from event logs of builds before it).
    public var inputsExcluded: Int?
    public var sources: Int
    public var bytesWritten: Int
    public var durationSeconds: Double?
    /// Where the catalogs and `_manifest.jsonl` go (a directory or s3:// prefix).
    public var output: String?
    public var manifest: String?
    public var isFinished: Bool { !["queued", "running"].contains(status) }
}

/// One job's page, as `GET /api/v1/jobs/{id}` returns it.
public struct JobDetail: Codable, Sendable, Equatable {
    public var job: JobSummary
    public var tasksRunning: Int
    public var tasksEnded: Int
    /// Attempts `GET /api/v1/jobs/{id}/tasks` can list: the running ones and the latest ended.
    public var tasksKept: Int
    /// The first failed inputs with their messages (`job.inputsFailed` counts them all).
    public var failures: [InputRecord]
    public var slowestTasks: [TaskRecord]
    public var executors: [ExecutorFigures]
}

/// An executors-table row, as `GET /api/v1/executors` returns it.
public struct ExecutorSummary: Codable, Sendable, Equatable {
    public var id: String
    public var host: String
    public var cores: Int
    /// False once it was lost (it then stays listed until the process restarts).
    public var connected: Bool
    public var tasksRunning: Int
    public var tasksSucceeded: Int
    public var tasksFailed: Int
    public var heartbeatAgeSeconds: Double?
    public var memoryBytes: Int?
}

extension JobSummary {
    init(_ state: JobState?, host: HostJob?, now: Date) {
        id = host?.id ?? state?.id ?? ""
        submitted = host?.submitted ?? state?.submitted
        started = host?.started ?? state?.started
        finished = host?.finished ?? state?.finished
        // A job the host does not know, whose log never ended, ended with the process that ran it.
        status = host?.status ?? state.map { $0.status == "running" && $0.finished == nil ? "running" : $0.status } ?? "unknown"
        message = host.map { $0.message.isEmpty ? (state?.message ?? "") : $0.message } ?? state?.message ?? ""
        inputsTotal = state?.inputsTotal ?? 0
        inputsDone = state?.inputsDone ?? 0
        inputsFailed = state?.inputsFailed ?? 0
        inputsExcluded = state?.count(.excluded) ?? 0
        sources = state?.sources ?? 0
        bytesWritten = state?.bytesWritten ?? 0
        if let started {
            durationSeconds = (finished ?? (status == "running" ? now : state?.finished ?? now)).timeIntervalSince(started)
        }
        output = state?.output
        manifest = output.map { $0.hasSuffix("/") ? "\($0)_manifest.jsonl" : "\($0)/_manifest.jsonl" }
    }
}
