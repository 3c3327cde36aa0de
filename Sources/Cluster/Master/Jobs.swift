import Engine
import Foundation

/// A job as the master received it. The payload (the pipeline's JobSpec JSON) is opaque here.
public struct SubmittedJob: Sendable {
    public var id: String
    /// The job as the client sent it. A master with a history keeps it in the job's payload
    /// file, not in memory: `loadPayload()` reads it when the job starts.
    public var payload: Data {
        get { (try? loadPayload()) ?? Data() }
        set { stored = .bytes(newValue) }
    }
    public var settings: [String: String]
    public var submitted: Date
    /// True when a restarted master re-queued this job after it was cut off mid-run: the
    /// handler should continue from what the earlier run committed instead of redoing it.
    public var resumed: Bool
    /// Who submitted it (`Principal.name`).
    public var user: String?

    enum Stored: Sendable {
        case bytes(Data)
        case file(URL)
    }
    private(set) var stored: Stored

    public init(id: String, payload: Data, settings: [String: String] = [:], submitted: Date = Date(),
                resumed: Bool = false, user: String? = nil) {
        self.init(id: id, stored: .bytes(payload), settings: settings, submitted: submitted, resumed: resumed, user: user)
    }

    init(id: String, stored: Stored, settings: [String: String], submitted: Date, resumed: Bool, user: String?) {
        self.id = id
        self.user = user
        self.stored = stored
        self.settings = settings
        self.submitted = submitted
        self.resumed = resumed
    }

    /// The payload, read from the history when that is where it is kept.
    public func loadPayload() throws -> Data {
        switch stored {
        case .bytes(let data): return data
        case .file(let url):
            do { return try Data(contentsOf: url) } catch {
                throw ClusterError.requestFailed("job \(id): cannot read its submission \(url.path): \(error.localizedDescription)")
            }
        }
    }

    /// This job with its payload kept at `file` instead of in memory.
    func keptIn(_ file: URL) -> SubmittedJob {
        var job = self
        job.stored = .file(file)
        return job
    }
}

// A job's status is Engine's `JobStatus`: one type for the scheduler, the master, clients and the monitor.

/// What the job handler reports when a job ends.
public struct JobOutcome: Codable, Sendable, Equatable {
    public var status: JobStatus
    public var message: String
    /// Whatever the handler counts (inputs succeeded, failed, rows, ...).
    public var counts: [String: Int]
    /// Opaque detail for clients, e.g. the pipeline's report JSON.
    public var detail: Data?

    public init(status: JobStatus, message: String = "", counts: [String: Int] = [:], detail: Data? = nil) {
        self.status = status
        self.message = message
        self.counts = counts
        self.detail = detail
    }
}

/// One line of the job table and of the history kept on disk.
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: String
    public var submitted: Date
    public var started: Date?
    public var finished: Date?
    public var status: JobStatus
    /// Set when the job has ended.
    public var outcome: JobOutcome?
    /// The user it belongs to (nil in records from before users existed: only admins see those).
    public var user: String?
    /// The fair-scheduler pool it runs in.
    public var pool: String?

    public init(id: String, submitted: Date, started: Date? = nil, finished: Date? = nil,
                status: JobStatus, outcome: JobOutcome? = nil, user: String? = nil, pool: String? = nil) {
        self.id = id
        self.user = user
        self.pool = pool
        self.submitted = submitted
        self.started = started
        self.finished = finished
        self.status = status
        self.outcome = outcome
    }
}

extension JobRecord {
    /// Oldest first; ties (same millisecond) by id.
    static func bySubmission(_ a: JobRecord, _ b: JobRecord) -> Bool {
        (a.submitted, a.id) < (b.submitted, b.id)
    }
}

/// Runs one job on the cluster. The master calls it on a thread of the job's own; several jobs may run at once.
public protocol JobHandler: AnyObject, Sendable {
    /// Runs `job` to completion with `backend` (the executors registered now and later).
    /// Send progress through `context`; honour `context.isCancelled`. A thrown error marks the job failed.
    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome
}

/// The handler's line back to the master: progress for waiting clients, and cancellation.
/// @unchecked: `lock` guards `cancelled` and `cancellationHandlers`.
public final class JobContext: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var cancellationHandlers: [@Sendable () -> Void] = []
    private let progressSink: @Sendable (Data) -> Void

    init(progress: @escaping @Sendable (Data) -> Void) {
        self.progressSink = progress
    }

    /// Forwards `data` to every client waiting on the job.
    public func progress(_ data: Data) { progressSink(data) }

    public var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled
    }

    /// Runs `body` when the job is cancelled (at once if it already was).
    public func onCancel(_ body: @escaping @Sendable () -> Void) {
        lock.lock()
        if !cancelled {
            cancellationHandlers.append(body)
            lock.unlock()
            return
        }
        lock.unlock()
        body()
    }

    func cancel() {
        lock.lock()
        guard !cancelled else { lock.unlock(); return }
        cancelled = true
        let handlers = cancellationHandlers
        cancellationHandlers = []
        lock.unlock()
        handlers.forEach { $0() }
    }
}
