import Foundation

/// What the process running the jobs (a cluster master) knows beyond the events: its job
/// table, including queued and past jobs, its executors, and how to cancel a job.
/// A local run has no host; the monitor then relies on events alone.
public protocol MonitorHost: AnyObject, Sendable {
    func jobTable() -> [HostJob]
    func executorTable() -> [HostExecutor]
    /// Asks the job to stop. Throws with a message for the user when it cannot.
    func cancel(jobID: String) throws
}

/// One row of the host's job table.
public struct HostJob: Sendable, Equatable {
    public var id: String
    public var submitted: Date
    public var started: Date?
    public var finished: Date?
    public var status: String
    public var message: String

    public init(id: String, submitted: Date, started: Date? = nil, finished: Date? = nil,
                status: String, message: String = "") {
        self.id = id
        self.submitted = submitted
        self.started = started
        self.finished = finished
        self.status = status
        self.message = message
    }
}

/// An executor the host has connected now.
public struct HostExecutor: Sendable, Equatable {
    public var id: String
    public var host: String
    public var cores: Int
    /// Seconds since its last heartbeat, when the host tracks it.
    public var heartbeatAge: Double?
    /// Resident memory in bytes, when the executor reports it.
    public var memoryBytes: Int?

    public init(id: String, host: String, cores: Int, heartbeatAge: Double? = nil, memoryBytes: Int? = nil) {
        self.id = id
        self.host = host
        self.cores = cores
        self.heartbeatAge = heartbeatAge
        self.memoryBytes = memoryBytes
    }
}

public enum MonitorError: Error, CustomStringConvertible, Equatable {
    case noSuchJob(String)
    case cannotCancel(String, reason: String)

    public var description: String {
        switch self {
        case .noSuchJob(let id): return "no job '\(id)'"
        case .cannotCancel(let id, let reason): return "cannot cancel job '\(id)': \(reason)"
        }
    }
}
